/**
 * Face-field patterns are written by department admins and run on every submitted value
 * in the API process: a pattern with catastrophic backtracking (`(a+)+b`) freezes the
 * whole process (docs/security.md). JavaScript's engine backtracks, so we accept only
 * patterns whose matching time is bounded by a small polynomial of the value length,
 * and cap patterned values at PATTERN_VALUE_MAX_LENGTH characters:
 *
 * - no backreferences and no lookarounds (they defeat any bound);
 * - no quantified group that itself holds a quantifier or an alternation (star height 1:
 *   `(a+)+`, `(a|ab)*`, `(\d{2})+` are refused — the exponential cases);
 * - at most MAX_UNBOUNDED_QUANTIFIERS unbounded quantifiers (`*`, `+`, `{n,}`, `{n,m}` with a
 *   large m) in the whole pattern, so the polynomial stays of low degree.
 *
 * A hand-written scanner rather than an npm checker: domain/ imports only zod
 * (test/unit/architecture.test.ts), and this rule set is small enough to read.
 */

export const PATTERN_VALUE_MAX_LENGTH = 256;
export const MAX_UNBOUNDED_QUANTIFIERS = 3;
/** `{n,m}` with m above this counts as unbounded. */
const LARGE_REPEAT = 16;

type Frame = { quantifiers: number; alternation: boolean };

/** Why the pattern may backtrack badly, or undefined when it is safe. Assumes the pattern compiles. */
export function unsafePatternReason(pattern: string): string | undefined {
  const stack: Frame[] = [{ quantifiers: 0, alternation: false }];
  let unbounded = 0;
  // What the previous atom was: a closed group (with its frame), anything else, or nothing.
  let lastGroup: Frame | undefined;
  let lastAtom = false;
  let i = 0;
  /** repeats: more than once (an optional `?` group does not repeat, so it may hold anything). */
  const quantified = (isUnbounded: boolean, repeats = true): string | undefined => {
    if (!lastAtom) return undefined; // a lazy `?` after a quantifier: nothing new to quantify
    if (isUnbounded) unbounded++;
    if (repeats && lastGroup && (lastGroup.quantifiers > 0 || lastGroup.alternation)) {
      return lastGroup.alternation
        ? 'a repeated group must not contain alternatives (|): it can backtrack exponentially'
        : 'nested quantifiers, e.g. (a+)+, can backtrack exponentially';
    }
    stack[stack.length - 1]!.quantifiers++;
    lastAtom = false;
    lastGroup = undefined;
    return undefined;
  };
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      const n = pattern[i + 1] ?? '';
      if (/[1-9]/.test(n) || (n === 'k' && pattern[i + 2] === '<')) return 'backreferences are not allowed';
      i += 2;
      // \u{…}, \p{…} and \x.. escapes are one atom; skip their braces.
      if ((n === 'u' || n === 'p' || n === 'P') && pattern[i] === '{')
        i = pattern.indexOf('}', i) + 1 || pattern.length;
      lastAtom = true;
      lastGroup = undefined;
      continue;
    }
    if (c === '[') {
      // A character class is one atom, whatever it holds.
      i++;
      if (pattern[i] === '^') i++;
      if (pattern[i] === ']') i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      i++;
      lastAtom = true;
      lastGroup = undefined;
      continue;
    }
    if (c === '(') {
      if (
        pattern.startsWith('(?=', i) ||
        pattern.startsWith('(?!', i) ||
        pattern.startsWith('(?<=', i) ||
        pattern.startsWith('(?<!', i)
      ) {
        return 'lookahead and lookbehind are not allowed';
      }
      stack.push({ quantifiers: 0, alternation: false });
      if (pattern.startsWith('(?:', i)) i += 3;
      else if (pattern.startsWith('(?<', i)) i = pattern.indexOf('>', i) + 1;
      else i++;
      lastAtom = false;
      lastGroup = undefined;
      continue;
    }
    if (c === ')') {
      const frame = stack.length > 1 ? stack.pop()! : stack[0]!;
      // The group's inner quantifiers count for the enclosing group too.
      stack[stack.length - 1]!.quantifiers += frame.quantifiers;
      stack[stack.length - 1]!.alternation ||= frame.alternation;
      lastGroup = frame;
      lastAtom = true;
      i++;
      continue;
    }
    if (c === '|') {
      stack[stack.length - 1]!.alternation = true;
      lastAtom = false;
      lastGroup = undefined;
      i++;
      continue;
    }
    if (c === '*' || c === '+' || c === '?') {
      const why = quantified(c !== '?', c !== '?');
      if (why) return why;
      i++;
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (m) {
        const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
        const why = quantified(max > LARGE_REPEAT, max > 1);
        if (why) return why;
        i += m[0].length;
        continue;
      }
    }
    lastAtom = true;
    lastGroup = undefined;
    i++;
  }
  if (unbounded > MAX_UNBOUNDED_QUANTIFIERS) {
    return `at most ${MAX_UNBOUNDED_QUANTIFIERS} unbounded quantifiers (*, +, {n,}) are allowed`;
  }
  return undefined;
}
