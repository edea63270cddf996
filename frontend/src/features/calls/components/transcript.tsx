// The call's transcript as a timeline: caller and receptionist turns in order, a barge-in
// (the caller talking over the receptionist) and key presses (DTMF) marked. Key presses carry
// their time; pressing one seeks the recording there.
import { Badge } from '@/components/ui/badge';
import { formatMs } from '@/utils/format';

import type { DtmfPress, TranscriptTurn } from '../api/types';

type Entry =
  | { kind: 'turn'; speaker: 'caller' | 'agent' | 'other'; label: string; text: string; interrupted: boolean; heardMs: number | null; pending: boolean }
  | { kind: 'dtmf'; digit: string; atMs: number | null };

function speakerOf(turn: TranscriptTurn): 'caller' | 'agent' | 'other' {
  const who = (turn.speaker ?? turn.role ?? '').toLowerCase();
  if (who === 'caller' || who === 'user') return 'caller';
  if (who === 'agent' || who === 'assistant') return 'agent';
  return 'other';
}

/** Turns in order; key presses the brain did not log as turns follow, by time (pure). */
export function timelineEntries(transcript: TranscriptTurn[], dtmf: DtmfPress[]): Entry[] {
  const entries: Entry[] = [];
  const logged: string[] = [];
  for (const turn of transcript) {
    if (typeof turn.dtmf === 'string' && turn.dtmf) {
      logged.push(turn.dtmf);
      const press = dtmf.find((p) => p.digit === turn.dtmf && !entries.some((e) => e.kind === 'dtmf' && e.atMs === p.at_ms));
      entries.push({ kind: 'dtmf', digit: turn.dtmf, atMs: press ? press.at_ms : null });
      continue;
    }
    const speaker = speakerOf(turn);
    const text = turn.text ?? turn.heard ?? '';
    entries.push({
      kind: 'turn',
      speaker,
      label: speaker === 'caller' ? 'Caller' : speaker === 'agent' ? 'Receptionist' : (turn.speaker ?? turn.role ?? 'Note'),
      text: text === '…' ? '' : text,
      interrupted: turn.interrupted === true,
      heardMs: typeof turn.heard_ms === 'number' ? turn.heard_ms : null,
      pending: text === '…',
    });
  }
  const unlogged = [...dtmf].sort((a, b) => a.at_ms - b.at_ms).filter((press) => {
    const index = logged.indexOf(press.digit);
    if (index === -1) return true;
    logged.splice(index, 1);
    return false;
  });
  for (const press of unlogged) entries.push({ kind: 'dtmf', digit: press.digit, atMs: press.at_ms });
  return entries;
}

export function Transcript({
  transcript,
  dtmf,
  onSeek,
}: {
  transcript: TranscriptTurn[];
  dtmf: DtmfPress[];
  onSeek?: ((ms: number) => void) | undefined;
}) {
  const entries = timelineEntries(transcript, dtmf);
  if (!entries.length) return <p className="muted">No transcript was recorded for this call.</p>;
  return (
    <ol className="timeline" aria-label="Transcript">
      {entries.map((entry, index) =>
        entry.kind === 'dtmf' ? (
          <li key={index} className="timeline-item timeline-dtmf">
            <span className="timeline-marker" aria-hidden>
              #
            </span>
            <div>
              <Badge tone="info">Key press</Badge>{' '}
              <span>
                Caller pressed <kbd>{entry.digit}</kbd>
              </span>
              {entry.atMs !== null ? (
                onSeek ? (
                  <button type="button" className="btn btn-ghost btn-sm" onClick={() => onSeek(entry.atMs ?? 0)}>
                    at {formatMs(entry.atMs)}
                    <span className="visually-hidden"> (play from here)</span>
                  </button>
                ) : (
                  <span className="small muted"> at {formatMs(entry.atMs)}</span>
                )
              ) : null}
            </div>
          </li>
        ) : (
          <li key={index} className={`timeline-item timeline-${entry.speaker}`}>
            <span className="timeline-marker" aria-hidden>
              {entry.speaker === 'caller' ? 'C' : entry.speaker === 'agent' ? 'R' : '·'}
            </span>
            <div className="timeline-bubble">
              <div className="row small" style={{ gap: 8 }}>
                <strong>{entry.label}</strong>
                {entry.interrupted ? (
                  <Badge tone="warn">Barge-in{entry.heardMs !== null ? ` after ${formatMs(entry.heardMs)}` : ''}</Badge>
                ) : null}
              </div>
              <p>{entry.pending ? <span className="muted">(not transcribed)</span> : entry.text || <span className="muted">(silence)</span>}</p>
              {entry.interrupted ? (
                <p className="small muted">The caller talked over the receptionist; the rest of this was not played.</p>
              ) : null}
            </div>
          </li>
        ),
      )}
    </ol>
  );
}
