/**
 * API errors as sentences in the user's language. The server writes its problem details in
 * English for integrators; here each status (and, for a few pages, the known reasons) gets a
 * message from the dictionary, and field messages the server sends are translated where we
 * know their form. Raw JSON never reaches the page.
 */
import { t, isZh } from './i18n.js';

/** Server field messages we know, English → dictionary key with captured params. */
const MESSAGES = [
  [/^is required$/, 'srv.required'],
  [/^Required$/i, 'srv.required'],
  [/^must be at most (\d+) characters, got (\d+)$/, 'srv.maxLength', ['max', 'got']],
  [/^must be at least (\d+) characters$/, 'srv.minLength', ['min']],
  [/^at least (\d+) characters$/, 'srv.minLength', ['min']],
  [/^must match the pattern (.+)$/, 'srv.pattern', ['pattern']],
  [/^must be a date written YYYY-MM-DD$/, 'srv.dateFormat'],
  [/^(\S+) is not a real date$/, 'srv.notRealDate', ['value']],
  [/^must be one of: (.+)$/, 'srv.oneOf', ['options']],
  [/^must be a finite number$/, 'srv.number'],
  [/^must be at least (-?[\d.]+)$/, 'srv.min', ['min']],
  [/^must be at most (-?[\d.]+)$/, 'srv.max', ['max']],
  [/^must have at most (\d+) items, got (\d+)$/, 'srv.maxItems', ['max', 'got']],
  [/^item (\d+) must be a non-empty text of at most (\d+) characters$/, 'srv.listItem', ['n', 'max']],
  [/^is not a field of this certificate type$/, 'srv.unknownField'],
  [/^(?:resident ID number )?must be 18 characters, got (\d+)$/, 'srv.length18', ['got']],
  [/^(?:resident ID number )?check digit should be (\w), got (\w)$/, 'srv.idCheck', ['expected', 'got']],
  [
    /^(?:unified social credit code )?check character should be (\w), got (\w)$/,
    'srv.creditCheck',
    ['expected', 'got'],
  ],
  [/^(?:resident ID number )?birth date (\d+) is not a real date$/, 'srv.idBirth', ['value']],
  [/^(?:resident ID number )?character (\d+) must be a digit$/, 'srv.idDigit', ['n']],
  [/^(?:resident ID number )?last character must be a digit or X$/, 'srv.idLast'],
  [/^(?:unified social credit code )?character (\d+) \('.'\) is not allowed/, 'srv.creditChar', ['n']],
  [/^unknown tag \{(.+)\}: not a face field of this type$/, 'srv.tpl.unknownTag', ['tag']],
  [/^required face field (\S+) \((.+)\) is missing from the template$/, 'srv.tpl.missingField', ['tag', 'label']],
  [/^the template must place the \{%(\w+)\} image$/, 'srv.tpl.missingImage', ['tag']],
  [/^loop \{#(.+)\} needs a face field of type list$/, 'srv.tpl.loop', ['tag']],
  [/^unknown image tag \{%(.+)\}: not an image face field$/, 'srv.tpl.unknownImage', ['tag']],
  [/^no department (.+)$/, 'srv.noDepartment', ['code']],
  [/^(.+) needs a department$/, 'srv.needsDepartment', ['role']],
  [/^key '(.+)' repeats '(.+)'$/, 'srv.keyRepeats', ['key', 'first']],
  [/^'(.+)' is filled in by certflow; choose another key$/, 'srv.reservedKey', ['key']],
  [/^enum fields need a list of options$/, 'srv.enumOptions'],
  [/^missing$/, 'srv.missing'],
];

/** The server's English field message in the user's language (unchanged when unknown or in English). */
export function translateMessage(message) {
  if (!isZh() || typeof message !== 'string') return message ?? '';
  for (const [re, key, names = []] of MESSAGES) {
    const m = re.exec(message);
    if (m) return t(key, Object.fromEntries(names.map((n, i) => [n, m[i + 1]])));
  }
  return message;
}

/**
 * { message, fields: [{field, message}], detail, requestId } for an error from api().
 * `context` picks the wording for pages whose errors mean something particular:
 * 'login' | 'decision' | 'template' | 'claim' | 'upload' | undefined.
 */
export function describeError(err, context) {
  if (!err || err.name !== 'ApiError') {
    return {
      message: t('err.unexpected'),
      fields: [],
      detail: err && err.message ? String(err.message) : '',
      requestId: '',
    };
  }
  const detail = err.detail;
  const fields = err.errors.map((e) => ({
    field: String(e.field ?? ''),
    message: translateMessage(String(e.message ?? '')),
  }));
  const base = { fields, detail, requestId: err.requestId };
  const msg = (key, params) => ({ ...base, message: t(key, params) });
  switch (err.status) {
    case 0:
      return msg('err.network');
    case 400:
      return msg(
        context === 'certificate' && /number/i.test(JSON.stringify(err.errors)) ? 'err.badNumber' : 'err.badRequest',
      );
    case 401:
      return msg(context === 'login' ? 'err.login' : 'err.sessionExpired');
    case 403:
      if (context === 'decision' || context === 'claim') {
        if (
          /four-eyes|four eyes|filler|earlier (step|approver)|already (approved|decided)|same person|own application/i.test(
            detail,
          )
        )
          return msg('err.fourEyes');
        return msg('err.notYourStep');
      }
      return msg('err.forbidden');
    case 404:
      return msg(context === 'certificate' ? 'err.noCertificate' : 'err.notFound');
    case 409:
      if ((context === 'decision' || context === 'claim') && /claimed by/i.test(detail)) return msg('err.claimed');
      if (context === 'decision') return msg('err.notCurrent');
      if (context === 'claim') return msg('err.claimed');
      return msg('err.conflict');
    case 413:
      return msg('err.tooLarge');
    case 415:
      return msg('err.unsupportedType');
    case 422:
      if (context === 'decision' && (/comment/i.test(detail) || fields.some((f) => f.field === 'comment')))
        return msg('err.commentRequired');
      if (context === 'template') {
        if (/not a DOCX|zip/i.test(detail)) return msg('err.notDocx');
        return msg('err.templateTags');
      }
      if (/no active seal/i.test(detail)) return msg('err.noSeal');
      if (/Upload a template before publishing/i.test(detail)) return msg('err.publishNoTemplate');
      return msg('err.invalid');
    case 429: {
      if (context === 'login') {
        const m = /(\d+) minutes?/.exec(detail);
        return msg('err.locked', { minutes: m ? m[1] : '15' });
      }
      const s = /(\d+) s\b/.exec(detail);
      return msg('err.rateLimited', { seconds: s ? s[1] : '60' });
    }
    case 503:
      return msg(/PDF conversion/i.test(detail) ? 'err.conversion' : 'err.unavailable');
    default:
      return err.status >= 500 ? msg('err.server') : msg('err.unexpected');
  }
}
