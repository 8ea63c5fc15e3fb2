import { stopTemporal } from './temporal';
import { closeTestConverters } from './app';
import { stopSeaweedfs } from './seaweedfs';

// Root hooks: shared servers are started lazily by the tests that need them and stopped once here.
export const mochaHooks = {
  async afterAll() {
    await stopTemporal();
    await closeTestConverters();
    await stopSeaweedfs();
  },
};
