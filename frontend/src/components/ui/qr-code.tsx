// A QR code drawn from its text as an SVG image (the `qrcode` package; no canvas needed).
import { toString as qrToSvg } from 'qrcode';
import { useEffect, useState } from 'react';

import { Spinner } from './states';

export function QrCode({ value, label, size = 264 }: { value: string; label: string; size?: number }) {
  const [svg, setSvg] = useState<{ value: string; url: string } | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let current = true;
    qrToSvg(value, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }).then(
      (text) => current && setSvg({ value, url: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}` }),
      () => current && setFailed(true),
    );
    return () => {
      current = false;
    };
  }, [value]);
  if (failed) return <p className="alert alert-error" role="alert">The QR code could not be drawn.</p>;
  if (svg?.value !== value) return <Spinner label="Drawing the QR code" />;
  return <img className="qr-code" src={svg.url} alt={label} width={size} height={size} />;
}
