import { useRef } from 'react';
import { Link, useParams } from 'react-router';

import { ButtonLink } from '@/components/ui/button';
import { Page, PageHeader } from '@/components/ui/page-header';
import { ErrorState, LoadingState } from '@/components/ui/states';
import { env } from '@/config/env';
import { paths } from '@/config/paths';
import { formatDateTime, formatDuration, humanize } from '@/utils/format';

import { callRecordingUrl, useCall } from '../api/get-call';
import type { CallDetail, DtmfPress } from '../api/types';
import { CallStatusBadge } from '../components/call-status';
import { Transcript } from '../components/transcript';

function keyPresses(call: CallDetail): DtmfPress[] {
  const listed = call.dtmf ?? call.events.dtmf;
  return Array.isArray(listed)
    ? listed.filter((p): p is DtmfPress => typeof p === 'object' && p !== null && typeof (p as DtmfPress).digit === 'string')
    : [];
}

function CallView({ call }: { call: CallDetail }) {
  const audio = useRef<HTMLAudioElement>(null);
  const seek = (ms: number) => {
    const element = audio.current;
    if (!element) return;
    element.currentTime = ms / 1000;
    void element.play().catch(() => undefined);
  };
  const counterpart = call.direction === 'inbound' ? call.from : call.to;
  const bargeIns = call.barge_ins ?? call.transcript.filter((t) => t.interrupted === true).length;
  return (
    <>
      <PageHeader
        title={call.lead?.name || counterpart || 'Call'}
        description={
          <span className="row" style={{ gap: 8 }}>
            <CallStatusBadge status={call.status} />
            {call.direction === 'inbound' ? 'Inbound call' : 'Outbound call'} · {formatDateTime(call.started_at ?? call.created_at)}
          </span>
        }
        actions={<ButtonLink to={paths.calls.getHref()}>All calls</ButtonLink>}
      />
      <div className="grid grid-2" style={{ alignItems: 'start' }}>
        <section className="card stack" aria-labelledby="recording">
          <h2 id="recording">Recording</h2>
          {call.has_recording ? (
            // The API serves the file with HTTP Range: the player seeks without downloading it all.
            // The transcript below is the recording's text alternative (no timed captions exist).
            // eslint-disable-next-line jsx-a11y/media-has-caption
            <audio
              ref={audio}
              controls
              preload="metadata"
              src={callRecordingUrl(call.id)}
              crossOrigin={env.API_URL ? 'use-credentials' : undefined}
            >
              <a href={callRecordingUrl(call.id)}>Download the recording</a>
            </audio>
          ) : (
            <p className="muted">This call has no recording.</p>
          )}
          {call.summary ? (
            <div>
              <h3>Summary</h3>
              <p>{call.summary}</p>
            </div>
          ) : null}
        </section>
        <section className="card" aria-labelledby="call-details">
          <h2 id="call-details" style={{ marginBottom: 12 }}>
            Details
          </h2>
          <dl className="details">
            <dt>From</dt>
            <dd className="mono">{call.from || '—'}</dd>
            <dt>To</dt>
            <dd className="mono">{call.to || '—'}</dd>
            <dt>Lead</dt>
            <dd>{call.lead ? <Link to={paths.lead.getHref(call.lead.id)}>{call.lead.name || call.lead.phone_e164}</Link> : '—'}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(call.duration_seconds)}</dd>
            <dt>Ended</dt>
            <dd>{call.end_reason ? humanize(call.end_reason) : '—'}</dd>
            <dt>Barge-ins</dt>
            <dd>{bargeIns}</dd>
            <dt>Call SID</dt>
            <dd className="mono small">{call.call_sid}</dd>
          </dl>
        </section>
      </div>
      <section className="card stack" aria-labelledby="transcript">
        <h2 id="transcript">Transcript</h2>
        <Transcript transcript={call.transcript} dtmf={keyPresses(call)} onSeek={call.has_recording ? seek : undefined} />
      </section>
    </>
  );
}

export default function CallRoute() {
  const id = Number(useParams().id);
  if (!Number.isInteger(id) || id < 1) {
    return (
      <Page title="Call">
        <ErrorState error={null} title="There is no such call" />
      </Page>
    );
  }
  return <CallPage id={id} />;
}

function CallPage({ id }: { id: number }) {
  const call = useCall(id);
  return (
    <Page title="Call">
      {call.isPending ? (
        <LoadingState label="Loading the call…" />
      ) : call.isError ? (
        <ErrorState error={call.error} title="Could not load this call" onRetry={() => void call.refetch()} />
      ) : (
        <CallView call={call.data} />
      )}
    </Page>
  );
}
