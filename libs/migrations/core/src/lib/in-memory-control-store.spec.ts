import { createInMemoryControlStore } from './in-memory-control-store';
import { describeControlStore } from './testing/control-store.conformance';
import { ManualClock } from './testing/manual-clock';

describeControlStore(
  'in-memory',
  () => {
    const clock = new ManualClock();
    return { store: createInMemoryControlStore({ clock }), now: () => clock.now(), elapse: (ms) => clock.advance(ms) };
  },
  { exactTime: true },
);
