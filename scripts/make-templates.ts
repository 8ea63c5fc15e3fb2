/**
 * Generates the sample certificate templates and seal artwork shipped in templates/:
 *
 *   templates/business-licence.docx      营业执照
 *   templates/food-business-permit.docx  食品经营许可证
 *   templates/seals/market.png           市场监督管理局 seal
 *   templates/seals/health.png           卫生健康委员会 seal
 *
 * Run with `npx tsx scripts/make-templates.ts`. Idempotent: the DOCX files are built
 * from the XML below with fixed zip dates, so a second run writes the same bytes.
 * The seals are SVG rendered by headless Chromium (Debian's `chromium`).
 *
 * Every run names its font ("Noto Serif CJK SC" / "Noto Sans CJK SC", eastAsia too):
 * with fonts-noto-cjk, LibreOffice otherwise picks the Japanese glyph variants.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import PizZip from 'pizzip';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'templates');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
// Fixed so that regenerating does not change the committed files.
const ZIP_DATE = new Date('2024-01-01T00:00:00Z');

const SERIF = 'Noto Serif CJK SC';
const SANS = 'Noto Sans CJK SC';
const INK = '1A1A1A';
const RED = 'C00000';

// A4 portrait in twentieths of a point; 2.3 cm side margins leave 9298 twips of text.
const PAGE = { w: 11906, h: 16838, top: 1304, bottom: 1134, side: 1304 };
const TEXT_WIDTH = PAGE.w - 2 * PAGE.side;

// ---------------------------------------------------------------- WordprocessingML bits

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface RunStyle {
  font?: string;
  /** Points. */
  size?: number;
  bold?: boolean;
  color?: string;
  /** Extra space between characters, in points (for spaced-out titles). */
  charSpacing?: number;
}

function run(text: string, s: RunStyle = {}): string {
  const font = s.font ?? SERIF;
  const size = (s.size ?? 12) * 2;
  return (
    `<w:r><w:rPr>` +
    `<w:rFonts w:ascii="${font}" w:hAnsi="${font}" w:eastAsia="${font}" w:cs="${font}"/>` +
    (s.bold ? '<w:b/><w:bCs/>' : '') +
    `<w:color w:val="${s.color ?? INK}"/>` +
    (s.charSpacing ? `<w:spacing w:val="${s.charSpacing * 20}"/>` : '') +
    `<w:sz w:val="${size}"/><w:szCs w:val="${size}"/>` +
    `<w:lang w:val="zh-CN" w:eastAsia="zh-CN"/>` +
    `</w:rPr><w:t xml:space="preserve">${esc(text)}</w:t></w:r>`
  );
}

interface ParaStyle {
  align?: 'left' | 'center' | 'right' | 'distribute';
  /** Points before / after. */
  before?: number;
  after?: number;
  /** Line height as a multiple (1 = single). */
  line?: number;
}

function para(runs: string | string[], s: ParaStyle = {}): string {
  const body = Array.isArray(runs) ? runs.join('') : runs;
  return (
    `<w:p><w:pPr>` +
    `<w:spacing w:before="${(s.before ?? 0) * 20}" w:after="${(s.after ?? 0) * 20}" ` +
    `w:line="${Math.round((s.line ?? 1) * 240)}" w:lineRule="auto"/>` +
    `<w:jc w:val="${s.align === 'distribute' ? 'distribute' : (s.align ?? 'left')}"/>` +
    `</w:pPr>${body}</w:p>`
  );
}

/** A paragraph that holds only a tag, so docxtemplater's paragraphLoop drops it. */
const tagPara = (tag: string) => para(run(tag));

/** An image tag alone in its paragraph, as the image module requires. */
const imagePara = (tag: string) => para(run(`{%${tag}}`), { align: 'center' });

function cell(width: number, content: string, opts: { vAlign?: 'top' | 'center' | 'bottom' } = {}): string {
  return (
    `<w:tc><w:tcPr><w:tcW w:w="${width}" w:type="dxa"/>` +
    `<w:vAlign w:val="${opts.vAlign ?? 'top'}"/></w:tcPr>${content}</w:tc>`
  );
}

/** A borderless layout table: certificates are laid out in columns, not boxes. */
function table(widths: number[], rows: string[][]): string {
  const grid = widths.map((w) => `<w:gridCol w:w="${w}"/>`).join('');
  const none = ['top', 'left', 'bottom', 'right', 'insideH', 'insideV']
    .map((side) => `<w:${side} w:val="nil"/>`)
    .join('');
  return (
    `<w:tbl><w:tblPr><w:tblW w:w="${widths.reduce((a, b) => a + b, 0)}" w:type="dxa"/>` +
    `<w:jc w:val="center"/><w:tblBorders>${none}</w:tblBorders><w:tblLayout w:type="fixed"/>` +
    `<w:tblCellMar><w:left w:w="60" w:type="dxa"/><w:right w:w="60" w:type="dxa"/></w:tblCellMar>` +
    `</w:tblPr><w:tblGrid>${grid}</w:tblGrid>` +
    rows.map((cells) => `<w:tr><w:trPr><w:cantSplit/></w:trPr>${cells.join('')}</w:tr>`).join('') +
    `</w:tbl>`
  );
}

const LABEL_WIDTH = 2300;

/** One face field: a spaced-out label (Chinese certificates justify labels to one width) and its value. */
function field(label: string, value: string | string[], labelWidth = LABEL_WIDTH): string[] {
  const values = Array.isArray(value) ? value : [para(run(value, { size: 13 }), { after: 6, line: 1.15 })];
  return [
    cell(labelWidth, para(run(label, { font: SANS, size: 12, bold: true }), { align: 'distribute', after: 6 })),
    cell(240, para('')),
    cell(TEXT_WIDTH - labelWidth - 240, values.join('')),
  ];
}

function document(body: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n` +
    `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"` +
    ` xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"` +
    ` xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"` +
    ` xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"` +
    ` xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture">` +
    `<w:body>${body}` +
    `<w:sectPr>` +
    `<w:pgSz w:w="${PAGE.w}" w:h="${PAGE.h}"/>` +
    `<w:pgMar w:top="${PAGE.top}" w:right="${PAGE.side}" w:bottom="${PAGE.bottom}" w:left="${PAGE.side}"` +
    ` w:header="567" w:footer="567" w:gutter="0"/>` +
    // The double frame of a printed certificate.
    `<w:pgBorders w:offsetFrom="page">` +
    ['top', 'left', 'bottom', 'right']
      .map((s) => `<w:${s} w:val="double" w:sz="12" w:space="24" w:color="${RED}"/>`)
      .join('') +
    `</w:pgBorders>` +
    `<w:cols w:space="425"/><w:docGrid w:linePitch="312"/>` +
    `</w:sectPr></w:body></w:document>`
  );
}

// ------------------------------------------------------------------ the two certificates

const small = (text: string, align: ParaStyle['align'] = 'left') =>
  para(run(text, { font: SANS, size: 8.5, color: '555555' }), { align, after: 2 });

/** QR code top right with a caption; the left column carries the identifying numbers. */
function header(left: string): string {
  return table(
    [TEXT_WIDTH - 2600, 2600],
    [
      [
        cell(TEXT_WIDTH - 2600, left, { vAlign: 'center' }),
        cell(2600, imagePara('qrCode') + small('扫码核验电子证照', 'center')),
      ],
    ],
  );
}

const numberBlock = (label: string, tag: string) =>
  para(run(label, { font: SANS, size: 10.5, color: '444444' }), { after: 0 }) +
  para(run(tag, { size: 13, bold: true }), { after: 6 });

const title = (text: string) =>
  para(run(text, { size: 40, bold: true, charSpacing: 10, color: RED }), { align: 'center', before: 6, after: 24 });

/** Issuing authority, seal over it, and the date, in the bottom right corner. */
function issuerBlock(label: string, leftNotes: string): string {
  return table(
    [TEXT_WIDTH - 4200, 4200],
    [
      [
        cell(TEXT_WIDTH - 4200, leftNotes, { vAlign: 'bottom' }),
        cell(
          4200,
          para(run(label, { font: SANS, size: 12, bold: true }), { align: 'center', after: 4 }) +
            imagePara('seal') +
            para(run('{issuerName}', { size: 13, bold: true }), { align: 'center', after: 2 }) +
            para(run('{issuedOn}', { size: 12 }), { align: 'center' }),
        ),
      ],
    ],
  );
}

function businessLicence(): string {
  return document(
    header(numberBlock('统一社会信用代码', '{creditCode}') + numberBlock('证照编号', '{certificateNumber}')) +
      title('营业执照') +
      table(
        [LABEL_WIDTH, 240, TEXT_WIDTH - LABEL_WIDTH - 240],
        [
          field('名称', '{entityName}'),
          field('类型', '{entityType}'),
          field('法定代表人', '{legalRepresentative}'),
          field('注册资本', '{registeredCapital}'),
          field('成立日期', '{establishedOn}'),
          field('营业期限', '{validFrom} 至 {validUntil}'),
          field('住所', '{address}'),
          field('经营范围', '{businessScope}'),
        ],
      ) +
      para('', { after: 18 }) +
      issuerBlock(
        '登记机关',
        small('持证主体：{holderName}') +
          small('市场主体应当于每年1月1日至6月30日通过') +
          small('国家企业信用信息公示系统报送公示年度报告。') +
          small('国家企业信用信息公示系统网址：www.gsxt.gov.cn'),
      ) +
      para(run('国家市场监督管理总局监制', { font: SANS, size: 9, color: '555555' }), { align: 'center', before: 18 }),
  );
}

function foodBusinessPermit(): string {
  const wide = 2800;
  // Paragraph loop: the {#…} and {/…} paragraphs vanish, the middle one repeats per item.
  const items = [
    tagPara('{#businessItems}'),
    para([run('● ', { size: 9, color: RED }), run('{.}', { size: 13 })], { after: 4, line: 1.15 }),
    tagPara('{/businessItems}'),
  ];
  return document(
    header(numberBlock('许可证编号', '{certificateNumber}')) +
      title('食品经营许可证') +
      table(
        [wide, 240, TEXT_WIDTH - wide - 240],
        [
          field('经营者名称', '{operatorName}', wide),
          field('社会信用代码', '{creditCode}', wide),
          field('法定代表人（负责人）', '{legalRepresentative}', wide),
          field('住所', '{address}', wide),
          field('经营场所', '{premises}', wide),
          field('主体业态', '{businessFormat}', wide),
          field('经营项目', items, wide),
          field('有效期', '{validFrom} 至 {validUntil}', wide),
        ],
      ) +
      para('', { after: 18 }) +
      issuerBlock(
        '发证机关',
        small('持证主体：{holderName}') +
          small('许可证应当悬挂或摆放在经营场所的显著位置。') +
          small('投诉举报电话：12315'),
      ) +
      para(run('国家市场监督管理总局监制', { font: SANS, size: 9, color: '555555' }), { align: 'center', before: 18 }),
  );
}

// ------------------------------------------------------------------------ package parts

const STYLES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
  <w:docDefaults>
    <w:rPrDefault><w:rPr>
      <w:rFonts w:ascii="${SERIF}" w:hAnsi="${SERIF}" w:eastAsia="${SERIF}" w:cs="${SERIF}"/>
      <w:sz w:val="24"/><w:szCs w:val="24"/>
      <w:lang w:val="zh-CN" w:eastAsia="zh-CN" w:bidi="ar-SA"/>
    </w:rPr></w:rPrDefault>
    <w:pPrDefault><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr></w:pPrDefault>
  </w:docDefaults>
  <w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>
  <w:style w:type="table" w:default="1" w:styleId="TableNormal">
    <w:name w:val="Normal Table"/>
    <w:tblPr><w:tblInd w:w="0" w:type="dxa"/>
      <w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/>
      <w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar>
    </w:tblPr>
  </w:style>
</w:styles>`;

const SETTINGS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
  <w:defaultTabStop w:val="420"/>
  <w:characterSpacingControl w:val="compressPunctuation"/>
  <w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat>
  <w:themeFontLang w:val="en-US" w:eastAsia="zh-CN"/>
</w:settings>`;

// charset 86 = GB2312: tells Word these are Simplified Chinese fonts.
const FONT_TABLE = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:fonts xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
  <w:font w:name="${SERIF}"><w:altName w:val="宋体"/><w:charset w:val="86"/><w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>
  <w:font w:name="${SANS}"><w:altName w:val="黑体"/><w:charset w:val="86"/><w:family w:val="swiss"/><w:pitch w:val="variable"/></w:font>
</w:fonts>`;

const CONTENT_TYPES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
  <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
  <Default Extension="xml" ContentType="application/xml"/>
  <Default Extension="png" ContentType="image/png"/>
  <Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
  <Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>
  <Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>
  <Override PartName="/word/fontTable.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.fontTable+xml"/>
  <Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
  <Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>
</Types>`;

const ROOT_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
  <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
  <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
  <Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>
</Relationships>`;

const DOCUMENT_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
  <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
  <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/>
  <Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/fontTable" Target="fontTable.xml"/>
</Relationships>`;

const core = (titleText: string) => `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <dc:title>${esc(titleText)}</dc:title>
  <dc:creator>certflow</dc:creator>
  <dc:language>zh-CN</dc:language>
  <dcterms:created xsi:type="dcterms:W3CDTF">${ZIP_DATE.toISOString().replace('.000', '')}</dcterms:created>
</cp:coreProperties>`;

const APP = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>certflow make-templates</Application></Properties>`;

export function buildDocx(documentXml: string, titleText: string): Buffer {
  const zip = new PizZip();
  const add = (name: string, content: string) => zip.file(name, content, { date: ZIP_DATE });
  add('[Content_Types].xml', CONTENT_TYPES);
  add('_rels/.rels', ROOT_RELS);
  add('docProps/core.xml', core(titleText));
  add('docProps/app.xml', APP);
  add('word/document.xml', documentXml);
  add('word/_rels/document.xml.rels', DOCUMENT_RELS);
  add('word/styles.xml', STYLES);
  add('word/settings.xml', SETTINGS);
  add('word/fontTable.xml', FONT_TABLE);
  return zip.generate({ type: 'nodebuffer', compression: 'DEFLATE' });
}

// ------------------------------------------------------------------------------- seals

/**
 * A state-organ seal: red ring, five-pointed star in the middle, the department's
 * name along the top arc. Transparent outside the ink so it can sit over text.
 */
export function sealSvg(name: string): string {
  const c = 200;
  const star = Array.from({ length: 10 }, (_, i) => {
    const r = i % 2 === 0 ? 64 : 25;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    return `${(c + r * Math.cos(a)).toFixed(1)},${(c + 6 + r * Math.sin(a)).toFixed(1)}`;
  }).join(' ');
  // The text baseline: an arc of radius 122 from 215° round the top to -35°.
  const r = 122;
  const from = (215 * Math.PI) / 180;
  const to = (-35 * Math.PI) / 180;
  const p = (a: number) => `${(c + r * Math.cos(a)).toFixed(2)} ${(c - r * Math.sin(a)).toFixed(2)}`;
  const arcLength = Math.round(r * (from - to) * 0.97);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400">
  <style>text { font-family: "${SERIF}"; font-weight: 900; fill: #d7000f; }</style>
  <circle cx="${c}" cy="${c}" r="184" fill="none" stroke="#d7000f" stroke-width="14"/>
  <defs><path id="arc" d="M ${p(from)} A ${r} ${r} 0 1 1 ${p(to)}"/></defs>
  <text font-size="54"><textPath href="#arc" textLength="${arcLength}" lengthAdjust="spacing">${esc(name)}</textPath></text>
  <polygon fill="#d7000f" points="${star}"/>
</svg>
`;
}

function renderSeal(svg: string, outFile: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'certflow-seal-'));
  try {
    const svgFile = path.join(dir, 'seal.svg');
    fs.writeFileSync(svgFile, svg);
    // --default-background-color=00000000 keeps the page transparent around the ink.
    execFileSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--hide-scrollbars',
        '--default-background-color=00000000',
        '--window-size=400,400',
        `--user-data-dir=${path.join(dir, 'profile')}`,
        `--screenshot=${path.join(dir, 'seal.png')}`,
        `file://${svgFile}`,
      ],
      { stdio: 'ignore', timeout: 60_000 },
    );
    fs.copyFileSync(path.join(dir, 'seal.png'), outFile);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const SEALS = { market: '市场监督管理局', health: '卫生健康委员会' } as const;

/**
 * Made-up face data that fills every tag of the shipped templates: for previews,
 * tests and benchmarks. Images ({%seal}, {%qrCode}) are passed separately.
 */
export const SAMPLE_DATA = {
  'business-licence': {
    certificateNumber: 'YYZZ-440305-2024-000123',
    holderName: '深圳市鹏城数字科技有限公司',
    issuerName: '深圳市市场监督管理局',
    issuedOn: '2024年03月15日',
    validFrom: '2019年06月18日',
    validUntil: '长期',
    entityName: '深圳市鹏城数字科技有限公司',
    creditCode: '91440300MA5G8XQ21K',
    entityType: '有限责任公司（自然人投资或控股）',
    legalRepresentative: '王建国',
    registeredCapital: '人民币伍佰万元整',
    establishedOn: '2019年06月18日',
    address: '深圳市南山区粤海街道高新区社区科技南十二路18号长虹科技大厦1203',
    businessScope:
      '一般经营项目是：计算机软硬件的技术开发、技术咨询、技术服务；信息系统集成服务；数据处理和存储支持服务。\n' +
      '许可经营项目是：第二类增值电信业务。',
  },
  'food-business-permit': {
    certificateNumber: 'JY14403050123456',
    holderName: '深圳市南山区味之源餐饮店',
    issuerName: '深圳市南山区市场监督管理局',
    issuedOn: '2024年04月02日',
    validFrom: '2024年04月02日',
    validUntil: '2029年04月01日',
    operatorName: '深圳市南山区味之源餐饮店',
    creditCode: '92440300MA5FL2K83B',
    legalRepresentative: '李秀英',
    address: '深圳市南山区南头街道南联社区南新路3038号',
    premises: '深圳市南山区南头街道南新路3038号101铺',
    businessFormat: '餐饮服务经营者（小型餐馆）',
    businessItems: ['热食类食品制售', '冷食类食品制售（不含生食）', '自制饮品制售（不含自酿酒）'],
  },
} as const;

function main() {
  fs.mkdirSync(path.join(OUT, 'seals'), { recursive: true });
  const written: string[] = [];
  const write = (rel: string, data: Buffer) => {
    fs.writeFileSync(path.join(OUT, rel), data);
    written.push(`templates/${rel} (${data.length} bytes)`);
  };
  write('business-licence.docx', buildDocx(businessLicence(), '营业执照'));
  write('food-business-permit.docx', buildDocx(foodBusinessPermit(), '食品经营许可证'));
  for (const [code, name] of Object.entries(SEALS)) {
    const file = path.join(OUT, 'seals', `${code}.png`);
    renderSeal(sealSvg(name), file);
    written.push(`templates/seals/${code}.png (${fs.statSync(file).size} bytes)`);
  }
  console.log(written.join('\n'));
}

if (require.main === module) main();
