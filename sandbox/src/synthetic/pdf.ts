// The smallest PDF a document of the synthetic records can be: one A4 page of Helvetica text,
// written by hand (PDF 1.4, exact xref offsets, no dates), so the same text gives the same bytes.

/** Characters of Windows-1252 (WinAnsiEncoding) outside Latin-1: curly quotes, dashes, œ, €… */
const winAnsiExtras: Record<string, number> = {
  '€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88, '‰': 0x89,
  'Š': 0x8a, '‹': 0x8b, 'Œ': 0x8c, 'Ž': 0x8e, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95,
  '–': 0x96, '—': 0x97, '˜': 0x98, '™': 0x99, 'š': 0x9a, '›': 0x9b, 'œ': 0x9c, 'ž': 0x9e, 'Ÿ': 0x9f,
};

/**
 * A PDF literal string in WinAnsiEncoding. Bytes above ASCII are written as octal escapes so the
 * whole file stays 7-bit: then a string's length is its byte count, which the xref offsets need.
 */
function pdfString(text: string): string {
  let out = '(';
  for (const char of text.normalize('NFC')) {
    const code = char.codePointAt(0)!;
    if (char === '(' || char === ')' || char === '\\') out += `\\${char}`;
    else if (code >= 0x20 && code < 0x7f) out += char;
    else if (code < 0x20) out += ' ';
    else {
      const byte = code >= 0xa0 && code <= 0xff ? code : (winAnsiExtras[char] ?? 0x3f);
      out += byte < 0x80 ? String.fromCharCode(byte) : `\\${byte.toString(8)}`;
    }
  }
  return `${out})`;
}

/** Helvetica at 11 pt fits about this many characters between the page margins. */
const LINE_WIDTH = 88;
/** Lines that fit on the page below the title; the rest is cut. */
const MAX_LINES = 48;

/** Splits a line at spaces so each piece fits the page width. */
function wrap(line: string): string[] {
  if (line.length <= LINE_WIDTH) return [line];
  const pieces: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    if (current && current.length + 1 + word.length > LINE_WIDTH) {
      pieces.push(current);
      current = word;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current) pieces.push(current);
  return pieces;
}

/** A one-page PDF 1.4: the title in 16 pt, then each line in 11 pt (long lines wrapped). */
export function minimalPdf(title: string, lines: string[]): Buffer {
  const body = lines.flatMap(wrap).slice(0, MAX_LINES);
  const text = ['BT', '/F1 16 Tf', '56 786 Td', `${pdfString(title)} Tj`, '/F1 11 Tf', '15 TL', '0 -12 Td'];
  for (const line of body) text.push(line ? `T* ${pdfString(line)} Tj` : 'T*');
  text.push('ET');
  const stream = text.join('\n');

  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
  ];
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(pdf.length);
    pdf += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = pdf.length;
  // Each xref entry is exactly 20 bytes: 10-digit offset, 5-digit generation, type, and a 2-byte end of line.
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF`;
  return Buffer.from(pdf, 'latin1');
}
