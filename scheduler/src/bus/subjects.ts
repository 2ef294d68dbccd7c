/**
 * Subjects as NATS spells them: tokens separated by '.', where a subscription may use '*' for
 * exactly one token and a final '>' for one or more. Kept to the NATS rules so that every subject
 * the in-process bus accepts also works unchanged on NATS.
 */
import { InvalidSubjectError } from './errors.js';

const MAX_SUBJECT_LENGTH = 256;
/** A literal token: no whitespace (NATS splits on it) and no wildcard characters inside. */
const LITERAL = /^[^\s.*>]+$/;

export type SubjectKind = 'concrete' | 'pattern';

/** Splits a subject into tokens, or throws InvalidSubjectError saying what is wrong. */
export function parseSubject(subject: string, kind: SubjectKind): string[] {
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) {
    throw new InvalidSubjectError(`invalid subject ${JSON.stringify(subject)}: must be 1–${MAX_SUBJECT_LENGTH} characters`);
  }
  const tokens = subject.split('.');
  tokens.forEach((token, i) => {
    const wildcard = token === '*' || (token === '>' && i === tokens.length - 1);
    if (wildcard && kind === 'concrete') {
      throw new InvalidSubjectError(`invalid subject ${JSON.stringify(subject)}: wildcards are only allowed where you subscribe or serve`);
    }
    if (!wildcard && !LITERAL.test(token)) {
      throw new InvalidSubjectError(
        `invalid subject ${JSON.stringify(subject)}: tokens are separated by single dots, contain no whitespace, and '>' may only be the last token`,
      );
    }
  });
  return tokens;
}

/**
 * True if every subject that `subject` can stand for also matches `pattern`. For a concrete
 * subject that is plain matching; for a pattern it says whether a subscription stays inside a
 * contract (serving 'worker.w1.*' inside 'worker.*.*' is fine, 'worker.>' is not).
 */
export function within(subject: readonly string[], pattern: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    const s = subject[i];
    if (p === '>') return s !== undefined;
    if (s === undefined) return false;
    if (p === '*') {
      if (s === '>') return false;
    } else if (s !== p) {
      return false;
    }
  }
  return subject.length === pattern.length;
}

/**
 * The subject a call uses: `given` if set (it must lie within the contract's subject), else the
 * contract's own. A concrete use (request, publish) must end up without wildcards.
 */
export function resolveSubject(contractSubject: string, given: string | undefined, kind: SubjectKind): string {
  if (given === undefined && kind === 'concrete' && /(^|\.)[*>](\.|$)/.test(contractSubject)) {
    throw new InvalidSubjectError(`contract subject ${JSON.stringify(contractSubject)} has wildcards: pass the concrete subject in options.subject`);
  }
  const subject = given ?? contractSubject;
  const tokens = parseSubject(subject, kind);
  if (given !== undefined && !within(tokens, parseSubject(contractSubject, 'pattern'))) {
    throw new InvalidSubjectError(`subject ${JSON.stringify(given)} is outside its contract's subject ${JSON.stringify(contractSubject)}`);
  }
  return subject;
}
