import fs from 'node:fs';
import path from 'node:path';
import PizZip from 'pizzip';

/** DOCX fixtures for the template and converter hardening tests. */
const TEMPLATES = path.resolve(__dirname, '../../templates');
export const licence = () => fs.readFileSync(path.join(TEMPLATES, 'business-licence.docx'));

export function edit(
  docx: Buffer,
  files: Record<string, (text: string) => string>,
  extra: Record<string, Buffer | string> = {},
) {
  const zip = new PizZip(docx);
  for (const [name, f] of Object.entries(files)) zip.file(name, f(zip.file(name)!.asText()));
  for (const [name, data] of Object.entries(extra)) zip.file(name, data);
  return zip.generate({ type: 'nodebuffer', compression: 'DEFLATE' }) as Buffer;
}

// An inline picture as Word writes one, but r:link (fetched) instead of r:embed (in the file).
export const linkedPicture = (rel: string) =>
  '<w:p><w:r><w:drawing><wp:inline><wp:extent cx="900000" cy="900000"/><wp:docPr id="9" name="x"/>' +
  '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">' +
  '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">' +
  '<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:nvPicPr><pic:cNvPr id="0" name="x"/>' +
  `<pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip r:link="${rel}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>` +
  '<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="900000" cy="900000"/></a:xfrm><a:prstGeom prst="rect"/></pic:spPr>' +
  '</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>';

/** The shipped licence template with an externally linked image pointing at `url`. */
export function withExternalImage(url: string) {
  return edit(licence(), {
    'word/_rels/document.xml.rels': (x) =>
      x.replace(
        '</Relationships>',
        `<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="${url}" TargetMode="External"/></Relationships>`,
      ),
    'word/document.xml': (x) => x.replace('<w:body>', `<w:body>${linkedPicture('rId99')}`),
  });
}
