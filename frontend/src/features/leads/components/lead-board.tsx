// The board: one column per status; dragging a card to another column PATCHes the lead's status
// (the card moves at once and goes back if the server refuses). Drag with a pointer, or with the
// keyboard: focus a card, Space to lift, arrows to move, Space to drop, Escape to cancel. Each
// card also has a "Move to" menu, for whoever prefers not to drag.
import {
  closestCenter,
  DndContext,
  KeyboardSensor,
  PointerSensor,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
  type Announcements,
  type DragEndEvent,
} from '@dnd-kit/core';
import { useQueries } from '@tanstack/react-query';
import { Link } from 'react-router';

import { ErrorState } from '@/components/ui/states';
import { toast } from '@/components/ui/toast';
import { paths } from '@/config/paths';
import { isApiError } from '@/lib/api-client';
import { formatDateTime } from '@/utils/format';

import { getLeadsQueryOptions } from '../api/get-leads';
import { LEAD_STATUSES, STATUS_LABELS, type Lead, type LeadStatus } from '../api/types';
import { useUpdateLeadStatus } from '../api/update-lead';

export const COLUMN_SIZE = 50;

function LeadCard({ lead, onMove }: { lead: Lead; onMove: (lead: Lead, status: LeadStatus) => void }) {
  const { attributes, listeners, setNodeRef, transform, isDragging } = useDraggable({ id: lead.id, data: { lead } });
  const style = transform ? { transform: `translate3d(${transform.x}px, ${transform.y}px, 0)` } : undefined;
  const name = lead.name || lead.phone_e164;
  return (
    <li
      ref={setNodeRef}
      className="board-card"
      data-dragging={isDragging || undefined}
      data-lead-id={lead.id}
      style={style}
    >
      <button type="button" className="board-handle" aria-label={`Drag ${name}`} {...attributes} {...listeners}>
        <span aria-hidden>⠿</span>
      </button>
      <div className="board-card-body">
        <Link to={paths.lead.getHref(lead.id)}>{name}</Link>
        {lead.name ? <div className="small muted mono">{lead.phone_e164}</div> : null}
        <div className="small muted">Last contact {formatDateTime(lead.last_contact_at)}</div>
        <label className="visually-hidden" htmlFor={`move-${lead.id}`}>
          Move {name} to
        </label>
        <select
          id={`move-${lead.id}`}
          className="select board-move"
          value={lead.status}
          onChange={(event) => onMove(lead, event.target.value as LeadStatus)}
        >
          {LEAD_STATUSES.map((status) => (
            <option key={status} value={status}>
              {STATUS_LABELS[status]}
            </option>
          ))}
        </select>
      </div>
    </li>
  );
}

function Column({
  status,
  index,
  leads,
  total,
  pending,
  failed,
  onRetry,
  onMove,
}: {
  status: LeadStatus;
  index: number;
  leads: Lead[];
  total: number;
  pending: boolean;
  failed: unknown;
  onRetry: () => void;
  onMove: (lead: Lead, status: LeadStatus) => void;
}) {
  const { setNodeRef, isOver } = useDroppable({ id: status });
  const headingId = `column-${status}`;
  return (
    <section ref={setNodeRef} className="board-column" data-over={isOver || undefined} data-column-index={index} aria-labelledby={headingId}>
      <header className="row" style={{ justifyContent: 'space-between' }}>
        <h2 id={headingId}>{STATUS_LABELS[status]}</h2>
        <span className="badge" aria-label={`${total} leads`}>
          {total}
        </span>
      </header>
      {failed ? (
        <ErrorState error={failed} title="Could not load" onRetry={onRetry} />
      ) : pending ? (
        <div className="stack" aria-label="Loading">
          <div className="skeleton" style={{ height: 72 }} />
          <div className="skeleton" style={{ height: 72 }} />
        </div>
      ) : leads.length === 0 ? (
        <p className="small muted board-empty">No leads. Drop one here.</p>
      ) : (
        <ul className="board-list">
          {leads.map((lead) => (
            <LeadCard key={lead.id} lead={lead} onMove={onMove} />
          ))}
        </ul>
      )}
      {total > leads.length && !pending ? (
        <Link className="small" to={`${paths.leads.getHref()}?status=${status}`}>
          All {total} {STATUS_LABELS[status].toLowerCase()} leads
        </Link>
      ) : null}
    </section>
  );
}

function leadOf(event: { active: { data: { current?: Record<string, unknown> | undefined } } }): Lead | undefined {
  return event.active.data.current?.lead as Lead | undefined;
}

const nameOf = (lead: Lead | undefined) => (lead ? lead.name || lead.phone_e164 : 'the lead');

const announcements: Announcements = {
  onDragStart: (event) => `Picked up ${nameOf(leadOf(event))}.`,
  onDragOver: ({ over }) => (over ? `Over ${STATUS_LABELS[over.id as LeadStatus]}.` : 'Not over a column.'),
  onDragEnd: ({ over }) => (over ? `Dropped in ${STATUS_LABELS[over.id as LeadStatus]}.` : 'Dropped outside the board; nothing changed.'),
  onDragCancel: () => 'Move cancelled.',
};

export function LeadBoard() {
  const columns = useQueries({
    queries: LEAD_STATUSES.map((status) => getLeadsQueryOptions({ status, per_page: COLUMN_SIZE, sort: 'last_contact_at' })),
  });
  const update = useUpdateLeadStatus({
    onError: (error, lead) => {
      const why = isApiError(error) ? error.message : 'the server did not answer';
      toast.error(`Could not move ${lead.name || lead.phone_e164}: ${why}. It is back where it was.`);
    },
  });
  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 6 } }),
    useSensor(KeyboardSensor),
  );
  const move = (lead: Lead, status: LeadStatus) => {
    if (lead.status !== status) update.mutate({ lead, status });
  };
  const onDragEnd = (event: DragEndEvent) => {
    const lead = leadOf(event);
    const target = event.over?.id as LeadStatus | undefined;
    if (lead && target) move(lead, target);
  };

  return (
    <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd} accessibility={{ announcements }}>
      <div className="board">
        {LEAD_STATUSES.map((status, index) => {
          const query = columns[index];
          return (
            <Column
              key={status}
              status={status}
              index={index}
              leads={query?.data?.items ?? []}
              total={query?.data?.total ?? 0}
              pending={query?.isPending ?? true}
              failed={query?.isError ? query.error : null}
              onRetry={() => void query?.refetch()}
              onMove={move}
            />
          );
        })}
      </div>
    </DndContext>
  );
}
