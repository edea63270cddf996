// The RQ queues and how many jobs wait in each: shown on the dashboard (system admins) and on
// the operations page, from the same API shape ({name, depth}).
import { Table } from '@/components/ui/table';

export type QueueDepth = { name: string; depth: number };

export function QueueTable({ queues, caption, captionHidden = false }: { queues: QueueDepth[]; caption: string; captionHidden?: boolean }) {
  return (
    <Table caption={caption} captionHidden={captionHidden}>
      <thead>
        <tr>
          <th scope="col">Queue</th>
          <th scope="col">Jobs waiting</th>
        </tr>
      </thead>
      <tbody>
        {queues.map((queue) => (
          <tr key={queue.name}>
            <td>{queue.name}</td>
            <td>{queue.depth}</td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
