import assert from 'node:assert/strict';
import { canonicalBytes, canonicalize, CanonicalJsonError } from '../../../domain/canonical-json';

/** The double with these IEEE 754 bits, as RFC 8785 Appendix B lists them. */
function double(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt('0x' + hex));
  return view.getFloat64(0);
}

function rejects(value: unknown, path: string, reason: RegExp) {
  assert.throws(
    () => canonicalize(value),
    (err: unknown) => {
      assert.ok(err instanceof CanonicalJsonError, String(err));
      assert.equal(err.path, path);
      assert.match(err.reason, reason);
      return true;
    },
  );
}

describe('canonical JSON (RFC 8785)', () => {
  it('reproduces the RFC 8785 §3.2.4 example', () => {
    const input = JSON.parse(`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
      "literals": [null, true, false]
    }`);
    assert.equal(
      canonicalize(input),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts keys by UTF-16 code units, as in RFC 8785 §3.2.3', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    assert.equal(
      canonicalize(input),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('writes numbers as RFC 8785 Appendix B lists them', () => {
    const table: [string, string][] = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'], // minus zero
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, text] of table) assert.equal(canonicalize(double(bits)), text, bits);
  });

  it('gives the same text whatever order the keys were added in, without whitespace', () => {
    const a = { holder: { name: '张三', kind: 'person' }, type: 'BL', face: { 名称: '杭州某某科技有限公司' } };
    const b = { face: { 名称: '杭州某某科技有限公司' }, type: 'BL', holder: { kind: 'person', name: '张三' } };
    assert.equal(canonicalize(a), canonicalize(b));
    assert.equal(
      canonicalize(a),
      '{"face":{"名称":"杭州某某科技有限公司"},"holder":{"kind":"person","name":"张三"},"type":"BL"}',
    );
  });

  it('keeps Chinese text as UTF-8, unescaped, and sorts CJK keys by code unit', () => {
    // 住 U+4F4F < 名 U+540D < 法 U+6CD5 < 经 U+7ECF
    const record = { 经营范围: '技术开发', 名称: '某某公司', 住所: '杭州市西湖区', 法定代表人: '李四' };
    const text = canonicalize(record);
    assert.equal(text, '{"住所":"杭州市西湖区","名称":"某某公司","法定代表人":"李四","经营范围":"技术开发"}');
    const bytes = canonicalBytes({ 名: '张' });
    assert.deepEqual([...bytes], [...Buffer.from('{"名":"张"}', 'utf8')]);
  });

  it('keeps array order and sorts objects nested inside arrays', () => {
    const value = [[3, [2, { b: 1, a: [] }]], {}, [], 'x', [null, [true, [false]]]];
    assert.equal(canonicalize(value), '[[3,[2,{"a":[],"b":1}]],{},[],"x",[null,[true,[false]]]]');
  });

  it('escapes control characters the way JSON.stringify does', () => {
    assert.equal(canonicalize('a\u0000b\u001f\t\u2028'), '"a\\u0000b\\u001f\\t\u2028"');
  });

  it('accepts objects without a prototype and values shared (not cyclic) between branches', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.z = 1;
    bare.a = 2;
    const shared = { k: 'v' };
    assert.equal(canonicalize({ bare, x: shared, y: shared }), '{"bare":{"a":2,"z":1},"x":{"k":"v"},"y":{"k":"v"}}');
  });

  it('rejects values JSON cannot carry, naming where they are', () => {
    rejects(undefined, '$', /undefined is not a JSON value/);
    rejects({ a: { b: undefined } }, '$.a.b', /undefined is not a JSON value/);
    rejects([1, undefined], '$[1]', /undefined/);
    rejects({ f: () => 1 }, '$.f', /function is not a JSON value/);
    rejects({ s: Symbol('x') }, '$.s', /symbol is not a JSON value/);
    rejects({ n: 10n }, '$.n', /bigint is not a JSON value/);
    rejects({ n: NaN }, '$.n', /NaN is not a JSON number/);
    rejects({ n: [Infinity] }, '$.n[0]', /Infinity is not a JSON number/);
    rejects({ '注册 资本': -Infinity }, '$["注册 资本"]', /-Infinity is not a JSON number/);
  });

  it('rejects Date, telling the caller to pass an ISO string', () => {
    rejects(
      { issuedAt: new Date(0) },
      '$.issuedAt',
      /a Date is not a plain object \(pass an ISO 8601 string instead\)/,
    );
  });

  it('rejects non-plain objects that JSON.stringify would quietly reshape', () => {
    class Certificate {
      id = 'x';
    }
    rejects(new Map([['a', 1]]), '$', /a Map is not a plain object/);
    rejects({ s: new Set([1]) }, '$.s', /a Set is not a plain object/);
    rejects({ c: new Certificate() }, '$.c', /a Certificate is not a plain object/);
    rejects({ b: new Uint8Array([1]) }, '$.b', /a Uint8Array is not a plain object/);
    rejects({ s: new String('x') }, '$.s', /a String is not a plain object/);
    rejects({ r: /x/ }, '$.r', /a RegExp is not a plain object/);
  });

  it('rejects sparse arrays, cycles, symbol keys and lone surrogates', () => {
    // eslint-disable-next-line no-sparse-arrays
    rejects({ a: [1, , 3] }, '$.a[1]', /array has a hole/);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    rejects(cyclic, '$.self.back', /cycle/);
    rejects({ [Symbol('k')]: 1 }, '$', /symbol keys/);
    rejects({ s: 'ok \ud800 broken' }, '$.s', /lone UTF-16 surrogate/);
    rejects({ s: '\udc00' }, '$.s', /lone UTF-16 surrogate/);
    rejects({ ['\ud83d']: 1 }, '$["\\ud83d"]', /lone UTF-16 surrogate/);
  });
});
