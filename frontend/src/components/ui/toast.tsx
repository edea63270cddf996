// Toasts are sonner's; this module is the one place that styles them.
import { Toaster as SonnerToaster } from 'sonner';

export { toast } from 'sonner';

export function Toaster() {
  return <SonnerToaster position="top-right" richColors closeButton toastOptions={{ duration: 5000 }} />;
}
