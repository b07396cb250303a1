// Building the page from data without ever parsing it as HTML: text goes
// in as text nodes, so a trait value like <script>…</script> shows as text.

/** h('button', {class: 'primary', onclick: f}, 'Save') */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value' && 'value' in el) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A form field: label, control, and a place for its error. */
export function field(label, control, hint) {
  const id = control.id || (control.id = 'f-' + Math.random().toString(36).slice(2));
  const error = h('p', {class: 'field-error', id: id + '-error', role: 'alert'});
  control.setAttribute('aria-describedby', id + '-error');
  return h('div', {class: 'field'}, h('label', {for: id}, label), control, hint ? h('p', {class: 'hint'}, hint) : null, error);
}

/** Shows `message` under the control (or clears it). */
export function fieldError(control, message) {
  const el = document.getElementById(control.id + '-error');
  if (el) el.textContent = message || '';
  control.toggleAttribute('aria-invalid', Boolean(message));
}
