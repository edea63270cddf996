// AudioWorklet: microphone → Float32 mono samples posted to the page (which resamples, encodes
// and frames them). Runs in the AudioWorkletGlobalScope: no DOM, no imports at run time.
import { CAPTURE_PROCESSOR, type CaptureMessage } from './worklet-messages';

class CaptureProcessor extends AudioWorkletProcessor {
  process(inputs: Float32Array[][]): boolean {
    const channel = inputs[0]?.[0];
    if (channel && channel.length) {
      const message: CaptureMessage = { type: 'samples', samples: channel.slice() };
      this.port.postMessage(message, [message.samples.buffer]);
    }
    return true;
  }
}

registerProcessor(CAPTURE_PROCESSOR, CaptureProcessor);
