// Builders for the touches a strategy proposes, as the Rust SDK's `Touch::*`.
// Variables are an object ({ level: 3 }) or a list of pairs; values become text.

function touch(member, step, channel, template, action, variables) {
  const pairs = Array.isArray(variables) ? variables : Object.entries(variables);
  return { memberId: member.profile.id, step, channel, template, variables: pairs.map(([k, v]) => [k, String(v)]), action };
}

/** A message on `channel` using `template`. */
export const message = (member, step, channel, template, variables = {}) =>
  touch(member, step, channel, template, { tag: 'message' }, variables);

/** A coupon, announced on `channel` using `template`. */
export const coupon = (member, step, channel, template, benefit, variables = {}) =>
  touch(member, step, channel, template, { tag: 'coupon', val: benefit }, variables);

/** A task for the member's own guide, who contacts them over WeCom. */
export const staffTask = (member, step, template, benefit = undefined, variables = {}) =>
  touch(member, step, 'wecom', template, { tag: 'staff-task', val: { guideId: member.profile.guideId, benefit } }, variables);

/** A group buy of `sku` for `groupSize` people at `priceFen` each. */
export const groupBuy = (sku, groupSize, priceFen) => ({ sku, groupSize, price: BigInt(priceFen) });

/** An invitation to open a group buy. */
export const groupBuyInvite = (member, step, channel, template, group, variables = {}) =>
  touch(member, step, channel, template, { tag: 'group-buy-invite', val: group }, variables);

/** Adds a template variable to a touch and returns it. */
export function withVar(t, key, value) {
  t.variables.push([key, String(value)]);
  return t;
}

/** The benefit a touch carries, if any. */
export function touchBenefit(t) {
  if (t.action.tag === 'coupon') return t.action.val;
  if (t.action.tag === 'staff-task') return t.action.val.benefit;
  return undefined;
}
