// Messages between the page and the two AudioWorklet processors (structured-clone data only).

export const CAPTURE_PROCESSOR = 'prosaas-capture';
export const PLAYBACK_PROCESSOR = 'prosaas-playback';

/** capture → page: one render quantum of microphone samples (mono, the context's rate). */
export type CaptureMessage = { type: 'samples'; samples: Float32Array };

/** page → playback */
export type PlaybackCommand =
  | { type: 'audio'; samples: Float32Array }
  | { type: 'mark'; name: string }
  | { type: 'clear' };

/** playback → page */
export type PlaybackReport = { type: 'mark'; name: string } | { type: 'cleared'; marks: string[] } | { type: 'level'; playing: boolean };
