// The browser test call, built by helper "testcall"; the dashboard shows it among its header
// actions (src/app/test-call-slot.tsx). Empty until that helper fills it in.
export default function TestCall() {
  return null;
}
