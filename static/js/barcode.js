// A BarcodeDetector for QR codes: the browser's own where it has one, else the vendored ponyfill
// (barcode-detector + zxing-wasm) whose .wasm is loaded from /static/vendor, never from a CDN.
const WASM_URL = '/static/vendor/zxing-wasm/zxing_reader.wasm';
let detector = null;

/** A detector for qr_code (created once). */
export async function qrDetector() {
  if (detector) return detector;
  if ('BarcodeDetector' in globalThis) {
    try {
      const formats = await globalThis.BarcodeDetector.getSupportedFormats();
      if (formats.includes('qr_code')) {
        detector = new globalThis.BarcodeDetector({ formats: ['qr_code'] });
        return detector;
      }
    } catch { /* fall through to the ponyfill */ }
  }
  const { BarcodeDetector, prepareZXingModule } = await import('../vendor/barcode-detector/ponyfill.js');
  await prepareZXingModule({
    overrides: { locateFile: (path, prefix) => (path.endsWith('.wasm') ? WASM_URL : prefix + path) },
    fireImmediately: true,
  });
  detector = new BarcodeDetector({ formats: ['qr_code'] });
  return detector;
}
