// POST /api/attachments (multipart, one part "file"): a JPEG, PNG, GIF, WebP or PDF to send along.
import { useMutation } from '@tanstack/react-query';

import { api } from '@/lib/api-client';

export type Attachment = {
  id: number;
  mime: string;
  size_bytes: number;
  status: 'pending' | 'ready' | 'failed';
  error: string;
  content_url: string;
  thumbnail_url: string | null;
};

export const ATTACHMENT_TYPES = 'image/jpeg,image/png,image/gif,image/webp,application/pdf';

export const uploadAttachment = (file: File) => {
  const form = new FormData();
  form.append('file', file);
  return api.post<Attachment>('/api/attachments', form);
};

export function useUploadAttachment() {
  return useMutation({ mutationFn: uploadAttachment });
}
