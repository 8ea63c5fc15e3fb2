import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { withExternalImage } from '../../support/docx';
import { convertWithLibreofficeConvert, WarmConverter, type ConvertOptions } from '../../../services/documents/convert';
import { networkNamespaceArgs, type SofficeIsolation } from '../../../services/documents/soffice-sandbox';

/**
 * Defence in depth below the external-reference check (docs/security.md, "LibreOffice
 * isolation"): a document that links an image on a real listener is handed to soffice with the
 * check replaced by one that lets everything through — as if a link slipped past it — and the
 * listener must see no request. The same document with the network allowed shows that soffice
 * does fetch it, so the test proves what it claims.
 */
describe('hardening: LibreOffice has no network', function () {
  this.timeout(180_000);
  let server: http.Server;
  let base: string;
  const hits: string[] = [];
  const letThrough: ConvertOptions = { safetyCheck: async () => {} };

  before(async function () {
    server = http.createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server?.close());

  const fetched = (marker: string) => hits.filter((h) => h.includes(marker));

  const layers: [string, SofficeIsolation][] = [
    ['no network', { network: true, profile: false }],
    ['profile settings', { network: false, profile: true }],
    ['both (the default)', {}],
  ];

  it('the stock converter (previews, trial renders): each layer alone keeps soffice from fetching', async () => {
    const convert = (marker: string, isolation: SofficeIsolation) =>
      convertWithLibreofficeConvert(
        withExternalImage(`${base}/${marker}.png`),
        { timeoutMs: 60_000, isolation },
        letThrough.safetyCheck,
      );
    await convert('stock-plain', { network: false, profile: false }).catch(() => undefined);
    assert.ok(fetched('stock-plain').length > 0, 'without either layer, soffice fetches the linked image');
    for (const [name, isolation] of layers) {
      // Where the machine has no network namespaces, the profile settings are the layer that holds.
      if (isolation.network && !networkNamespaceArgs()) continue;
      const marker = `stock-${name.replace(/\W+/g, '-')}`;
      const pdf = await convert(marker, isolation);
      assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-', name);
      assert.deepEqual(fetched(marker), [], name);
    }
  });

  it('the warm converter (sealing) fetches nothing', async () => {
    const plain = new WarmConverter({ size: 1, timeoutMs: 60_000, isolation: { network: false, profile: false } });
    const isolated = new WarmConverter({ size: 1, timeoutMs: 60_000 });
    try {
      await plain.convert(withExternalImage(`${base}/warm-plain.png`), letThrough).catch(() => undefined);
      const pdf = await isolated.convert(withExternalImage(`${base}/warm-isolated.png`), letThrough);
      assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
      assert.deepEqual(fetched('warm-isolated'), []);
      // UpdateDocMode NO_UPDATE alone does not stop it: the linked image is loaded with the document.
      assert.ok(fetched('warm-plain').length > 0, 'without isolation, the warm soffice fetches too');
    } finally {
      await plain.close();
      await isolated.close();
    }
  });
});
