// The camera as a QR reader: getUserMedia into a <video>, frames read by qrDetector() (native
// BarcodeDetector or the vendored ponyfill) about four times a second.
import { qrDetector } from './barcode.js';

/**
 * Start reading QR codes from the back camera into video. onCode(rawValue) is awaited before the
 * next frame; paused() returning true skips frames (an answer on screen). Resolves to a stop()
 * function, or null when there is no camera or it was refused.
 */
export async function startQrCamera(video, onCode, { paused = () => false } = {}) {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
  } catch {
    return null;
  }
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  const detector = await qrDetector();
  let running = true;
  let busy = false;
  const tick = async () => {
    if (!running) return;
    if (!busy && !paused() && video.readyState >= 2) {
      busy = true;
      try {
        const [code] = await detector.detect(video);
        if (code) await onCode(code.rawValue);
      } catch { /* a frame that could not be read */ } finally { busy = false; }
    }
    setTimeout(tick, 250);
  };
  tick();
  return () => {
    running = false;
    stream.getTracks().forEach((track) => track.stop());
    video.hidden = true;
  };
}

/** True when the page may open the camera without asking (permission already granted). */
export async function cameraGranted() {
  const permission = await navigator.permissions?.query({ name: 'camera' }).catch(() => null);
  return permission?.state === 'granted';
}
