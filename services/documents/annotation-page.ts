import fs from 'node:fs';
import PDFDocument from 'pdfkit';

/**
 * The annotation page of an annotated copy (加注件, docs/sharing.md): one A4 page in Chinese
 * saying for which matter, by whom, when and until when the copy may be used. Drawn with pdfkit
 * and a CJK font (fonts-noto-cjk, as LibreOffice uses for the certificates), embedded as a
 * subset with its ToUnicode map, so `pdftotext` reads the text back.
 */

const FONT_CANDIDATES: [string, string][] = [
  ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', 'NotoSansCJKsc-Regular'],
  ['/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc', 'NotoSansCJKsc-Regular'],
  ['/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc', 'NotoSerifCJKsc-Regular'],
];

function cjkFont(): [string, string] {
  const found = FONT_CANDIDATES.find(([file]) => fs.existsSync(file));
  if (!found) throw new Error('no CJK font for the annotation page: install fonts-noto-cjk (scripts/setup.sh)');
  return found;
}

export interface AnnotationText {
  /** 加注件编号 */
  copyId: string;
  certificateNumber: string;
  certificateName: string;
  issuerName: string;
  /** 用证事项 */
  matter: string;
  /** 用证事由 */
  reason: string;
  /** The fetching department's name, and the business system's when one fetched. */
  usedBy: string;
  /** 获取依据: 无条件共享, or the grant. */
  basis: string;
  fetchedAt: string;
  validUntil: string;
}

/** The lines of the page, also what a test looks for in `pdftotext` output. */
export function annotationLines(a: AnnotationText): string[] {
  return [
    `证照名称：${a.certificateName}`,
    `证照编号：${a.certificateNumber}`,
    `发证机关：${a.issuerName}`,
    `用证部门：${a.usedBy}`,
    `用证事项：${a.matter}`,
    `用证事由：${a.reason}`,
    `获取依据：${a.basis}`,
    `获取时间：${a.fetchedAt}`,
    `有效期至：${a.validUntil}`,
    `加注件编号：${a.copyId}`,
  ];
}

export function renderAnnotationPage(a: AnnotationText): Promise<Buffer> {
  const [file, family] = cjkFont();
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 56, compress: true, info: { Producer: 'certflow' } });
    const chunks: Buffer[] = [];
    doc.on('data', (c) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.registerFont('cjk', file, family);
    doc.font('cjk').fillColor('#b00000').fontSize(22).text('电子证照加注件', 56, 72, { width: 483, align: 'center' });
    doc.fontSize(11).fillColor('#444444');
    doc.text('本件为电子证照共享获取的加注件，仅限下列事项使用，有效期届满后失效；原件以发证机关签章为准。', 56, 116, {
      width: 483,
    });
    doc.fillColor('#000000').fontSize(13);
    let y = 168;
    for (const line of annotationLines(a)) {
      doc.text(line, 72, y, { width: 451 });
      y += 30;
    }
    doc
      .strokeColor('#b00000')
      .lineWidth(1.5)
      .rect(56, 156, 483, y - 146)
      .stroke();
    doc.fontSize(10).fillColor('#444444');
    doc.text('由电子证照共享平台签章；核验：上传本文件至 /verify', 56, y + 24, { width: 483 });
    doc.end();
  });
}
