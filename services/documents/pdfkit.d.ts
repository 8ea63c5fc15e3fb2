/**
 * pdfkit ships no types; this declares the little services/documents/annotation-page.ts uses.
 */
declare module 'pdfkit' {
  interface TextOptions {
    width?: number;
    lineGap?: number;
    align?: 'left' | 'center' | 'right';
  }
  class PDFDocument {
    constructor(options?: { size?: string; margin?: number; compress?: boolean; info?: Record<string, unknown> });
    on(event: 'data', listener: (chunk: Buffer) => void): this;
    on(event: 'end' | 'error', listener: (arg?: unknown) => void): this;
    registerFont(name: string, path: string, family?: string): this;
    font(name: string): this;
    fontSize(size: number): this;
    fillColor(color: string): this;
    strokeColor(color: string): this;
    lineWidth(width: number): this;
    rect(x: number, y: number, w: number, h: number): this;
    stroke(): this;
    text(text: string, x?: number, y?: number, options?: TextOptions): this;
    moveDown(lines?: number): this;
    end(): void;
  }
  export = PDFDocument;
}
