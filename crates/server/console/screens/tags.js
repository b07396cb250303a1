// Tags on the customer 360: each family's tags with where they came from
// (a rule, computed, by hand) and since when; a marketer tags by hand and
// removes a tag (PUT / DELETE /api/v1/profiles/<id>/tags/<tag>).

import {api, get} from '../api.js';
import {h, mount, field, fieldError} from '../dom.js';
import {t, register, errorText} from '../i18n.js';
import {dateTime} from '../format.js';

export const FAMILIES = ['basic', 'interest', 'spending', 'loyalty', 'risk'];

register({
  'zh-CN': {
    'tags.title': '标签', 'tags.none': '还没有标签。', 'tags.source.rule': '规则', 'tags.source.computed': '计算',
    'tags.source.manual': '手动', 'tags.family.basic': '基础属性', 'tags.family.interest': '兴趣偏好',
    'tags.family.spending': '消费能力', 'tags.family.loyalty': '忠诚度', 'tags.family.risk': '风险',
    'tags.since': '{source} · 自 {at}', 'tags.add': '添加标签', 'tags.new': '标签名', 'tags.family': '类别',
    'tags.remove': '移除标签 {tag}', 'tags.all': '全部标签',
  },
  en: {
    'tags.title': 'Tags', 'tags.none': 'No tags yet.', 'tags.source.rule': 'rule', 'tags.source.computed': 'computed',
    'tags.source.manual': 'by hand', 'tags.family.basic': 'Basic', 'tags.family.interest': 'Interests',
    'tags.family.spending': 'Spending power', 'tags.family.loyalty': 'Loyalty', 'tags.family.risk': 'Risk',
    'tags.since': '{source} · since {at}', 'tags.add': 'Add tag', 'tags.new': 'Tag', 'tags.family': 'Family',
    'tags.remove': 'Remove tag {tag}', 'tags.all': 'All tags',
  },
});

/** The tags card's body for profile `id`; `canEdit` shows the form and the remove buttons. */
export async function tagsCard(id, canEdit) {
  const box = h('div', {class: 'c360-tags'});
  const path = (tag) => `/api/v1/profiles/${encodeURIComponent(id)}/tags` + (tag ? '/' + encodeURIComponent(tag) : '');
  const show = async () => {
    const {items} = await get(path());
    const families = FAMILIES.map((f) => [f, items.filter((x) => x.family === f)]).filter(([, list]) => list.length);
    mount(box, items.length ? families.map(([family, list]) => h('div', {class: 'tag-family'},
      h('h3', {}, t('tags.family.' + family)),
      h('ul', {class: 'tag-list'}, list.map((x) => h('li', {class: 'tag tag-' + x.source,
        title: t('tags.since', {source: t('tags.source.' + x.source), at: dateTime(x.created_at)})},
      x.tag, ' ', h('span', {class: 'tag-source'}, t('tags.source.' + x.source)),
      canEdit ? h('button', {type: 'button', class: 'link', 'aria-label': t('tags.remove', {tag: x.tag}),
        onclick: async () => { await api('DELETE', path(x.tag)); await show(); }}, '×') : null)))))
      : h('p', {class: 'muted'}, t('tags.none')));
  };
  await show();
  if (!canEdit) return box;
  const name = h('input', {type: 'text', maxlength: 64, required: true});
  const family = h('select', {}, FAMILIES.map((f) => h('option', {value: f}, t('tags.family.' + f))));
  const form = h('form', {class: 'inline-form', onsubmit: async (e) => {
    e.preventDefault();
    fieldError(name, '');
    try {
      await api('PUT', path(name.value.trim()), {family: family.value});
      name.value = '';
      await show();
    } catch (err) {
      fieldError(name, errorText(err));
    }
  }}, field(t('tags.new'), name), field(t('tags.family'), family), h('button', {type: 'submit'}, t('tags.add')));
  return [box, form];
}
