import type { CertificateTypeVersion } from '../../domain/certificate-type';
import { sampleFaceData } from '../../domain/certificate-type';
import { validateFaceData } from '../../domain/face-fields';
import { ServiceError } from '../errors';
import { issueInstant, renderCertificate, SAMPLE_HOLDER, SAMPLE_MARK } from './certificate';
import { ConversionError, type PdfConverter } from './convert';
import { makeQrPng, TemplateError } from './render';
import type { TemplateWorkerPool } from './template-pool';

/**
 * A template that uploads and publishes must also seal: some only fail when rendered
 * (a dotted tag like `{x.y}` outside a loop, which no face data can fill) or when
 * LibreOffice opens them (a DOCX missing its namespaces). So upload and publish render the
 * template with sample data as sealing would and convert it, and refuse what fails
 * (docs/security.md). Throws TemplateError (422/413) or ServiceError.
 */
export async function trialRender(
  template: Buffer,
  type: Pick<CertificateTypeVersion, 'name' | 'faceFields' | 'validity'>,
  converter: PdfConverter,
  /** Every parse and render in a worker thread, never on the event loop (template-pool.ts). */
  templates: Pick<TemplateWorkerPool, 'check' | 'render'>,
): Promise<void> {
  await templates.check(template);
  const face = validateFaceData(type.faceFields, sampleFaceData(type.faceFields));
  if (!face.ok)
    throw new ServiceError('invalid', `the face fields have no valid sample data: ${JSON.stringify(face.errors)}`);
  const placeholder = await makeQrPng(SAMPLE_MARK);
  const docx = await renderCertificate(
    {
      type,
      faceData: face.data,
      holder: SAMPLE_HOLDER,
      number: SAMPLE_MARK,
      identifier: SAMPLE_MARK,
      issuerName: SAMPLE_MARK,
      issuedAt: issueInstant(),
      template,
      // The department's seal may not exist yet: any PNG takes its place in a trial.
      sealImage: placeholder,
      qrTarget: SAMPLE_MARK,
    },
    templates.render,
  );
  try {
    await converter.convert(docx, { safetyCheck: (d) => templates.check(d) });
  } catch (err) {
    if (err instanceof ConversionError && (err.code === 'failed' || err.code === 'not_docx' || err.code === 'unsafe')) {
      throw new TemplateError('not_docx', `LibreOffice cannot convert this template to PDF: ${err.message}`, [
        { id: 'conversion_failed', tag: '(template)', message: err.message },
      ]);
    }
    throw err; // timeout or closed: the converter's trouble, not the template's (503)
  }
}
