// The AudioWorkletGlobalScope's names (TypeScript's DOM library does not declare them).
declare abstract class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor();
  abstract process(inputs: Float32Array[][], outputs: Float32Array[][], parameters: Record<string, Float32Array>): boolean;
}

declare function registerProcessor(name: string, processor: new () => AudioWorkletProcessor): void;

declare const sampleRate: number;
