// Numbers, money and dates in the user's language; days and times in the
// shop's time zone (an offset such as +08:00 from GET /api/v1/shop).

import {locale} from './i18n.js';

let shop = {currency: 'CNY', utc_offset: '+08:00'};

export function setShop(s) {
  shop = s;
}

export function shopInfo() {
  return shop;
}

/** The shop's offset in minutes east of UTC. */
export function offsetMinutes(offset = shop.utc_offset) {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(offset || '');
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

export function number(n, digits) {
  return new Intl.NumberFormat(locale(), digits == null ? {} : {maximumFractionDigits: digits}).format(Number(n));
}

/** A decimal amount (a string, exact) in its currency. */
export function money(amount, currency = shop.currency) {
  if (amount == null || amount === '') return '—';
  return new Intl.NumberFormat(locale(), {style: 'currency', currency}).format(Number(amount));
}

export function percent(ratio, digits = 1) {
  return new Intl.NumberFormat(locale(), {style: 'percent', maximumFractionDigits: digits}).format(ratio);
}

/** An instant (ISO text) as a date and time in the shop's zone. */
export function dateTime(iso) {
  if (!iso) return '—';
  const shifted = new Date(new Date(iso).getTime() + offsetMinutes() * 60000);
  return new Intl.DateTimeFormat(locale(), {dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC'}).format(shifted);
}

/** A calendar day (YYYY-MM-DD) in the user's language. */
export function day(ymd) {
  const [y, m, d] = ymd.split('-').map(Number);
  return new Intl.DateTimeFormat(locale(), {month: 'short', day: 'numeric', timeZone: 'UTC'}).format(new Date(Date.UTC(y, m - 1, d)));
}

/** Today in the shop's zone, as YYYY-MM-DD, moved by `days`. */
export function shopToday(days = 0) {
  const now = new Date(Date.now() + offsetMinutes() * 60000 + days * 86400000);
  return now.toISOString().slice(0, 10);
}

/** Days from `from` to `to` (YYYY-MM-DD), both included. */
export function daysBetween(from, to) {
  const out = [];
  for (let t = Date.parse(from + 'T00:00:00Z'); t <= Date.parse(to + 'T00:00:00Z'); t += 86400000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}
