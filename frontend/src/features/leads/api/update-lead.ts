// PATCH /api/leads/{id} (api/routes/leads.py): change a lead's status, name, email, phone or notes.
import { useMutation, useQueryClient, type QueryKey } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

import { LEADS_LIST_KEY } from './get-leads';
import type { Lead, LeadStatus, Page } from './types';

export type LeadUpdate = Partial<Pick<Lead, 'name' | 'email' | 'phone_e164' | 'status' | 'notes'>>;

export const updateLead = ({ id, data }: { id: number; data: LeadUpdate }) => api.patch<Lead>(`/api/leads/${id}`, data);

type Snapshot = [QueryKey, Page<Lead> | undefined][];

/** Every cached list with the lead moved as if the server already agreed (pure). */
export function moveLead(page: Page<Lead>, filterStatus: LeadStatus | undefined, lead: Lead, status: LeadStatus): Page<Lead> {
  const had = page.items.some((item) => item.id === lead.id);
  const moved = { ...lead, status };
  if (filterStatus === undefined) {
    return had ? { ...page, items: page.items.map((item) => (item.id === lead.id ? moved : item)) } : page;
  }
  if (filterStatus === status && !had) return { ...page, items: [moved, ...page.items], total: page.total + 1 };
  if (filterStatus !== status && had) {
    return { ...page, items: page.items.filter((item) => item.id !== lead.id), total: Math.max(0, page.total - 1) };
  }
  return page;
}

/**
 * Change a lead's status at once in every cached list (the board's columns included), then
 * ask the server; on an error every list is put back as it was.
 */
export function useUpdateLeadStatus({ onError }: { onError?: (error: unknown, lead: Lead) => void } = {}) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ lead, status }: { lead: Lead; status: LeadStatus }) => updateLead({ id: lead.id, data: { status } }),
    onMutate: async ({ lead, status }): Promise<{ snapshot: Snapshot }> => {
      await queryClient.cancelQueries({ queryKey: LEADS_LIST_KEY });
      const snapshot: Snapshot = queryClient.getQueriesData<Page<Lead>>({ queryKey: LEADS_LIST_KEY });
      for (const [key, page] of snapshot) {
        if (!page) continue;
        const filters = key[2] as { status?: LeadStatus } | undefined;
        queryClient.setQueryData<Page<Lead>>(key, moveLead(page, filters?.status, lead, status));
      }
      return { snapshot };
    },
    onError: (error, { lead }, context) => {
      for (const [key, page] of context?.snapshot ?? []) queryClient.setQueryData(key, page);
      onError?.(error, lead);
    },
    onSettled: (_data, _error, { lead }) => {
      void queryClient.invalidateQueries({ queryKey: LEADS_LIST_KEY });
      void queryClient.invalidateQueries({ queryKey: ['leads', 'detail', lead.id] });
    },
  });
}

export function useUpdateLead({ onSuccess }: { onSuccess?: (lead: Lead) => void } = {}) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: updateLead,
    onSuccess: (lead) => {
      queryClient.setQueryData(['leads', 'detail', lead.id], (old: object | undefined) => (old ? { ...old, ...lead } : old));
      void queryClient.invalidateQueries({ queryKey: LEADS_LIST_KEY });
      void queryClient.invalidateQueries({ queryKey: ['leads', 'timeline', lead.id] });
      onSuccess?.(lead);
    },
  });
}
