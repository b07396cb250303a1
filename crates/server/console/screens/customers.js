// (being built)

import {h, mount} from '../dom.js';
import {t} from '../i18n.js';

export function render(main) {
  mount(main, h('h1', {}, t('nav.customers')));
}
