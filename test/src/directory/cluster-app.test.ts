// How the directory in a cluster shows an app from Argo CD's and the Deployment's view.
import { describe, expect, it } from 'vitest';
import { clusterDirectoryApp, type ClusterApp } from '../../../src/directory/cluster.js';
import { refusedPods } from '../../../src/live/deployment.js';

const desired: ClusterApp['desired'] = {
  key: 'risk/wide', tenant: 'risk', app: 'wide', tree: 't', commit: 'c'.repeat(40), replicas: 2, entrypoint: 'app.py',
  grids: [{ name: 'totals', columns: ['total'] }], viewerGroups: [], allowedTopics: ['trades'],
  resources: { cpu: '2', memory: '256Mi' }, dir: '/nowhere',
};
const progressing = { sync: 'Synced', health: 'Progressing', message: 'Waiting for rollout to finish: 1 of 2 updated replicas are available...' };
const QUOTA = 'pods "wide-connector-5d8f-x" is forbidden: exceeded quota: tenant-quota, requested: limits.cpu=2500m, used: limits.cpu=3250m, limited: limits.cpu=4';

const refused = refusedPods({ status: { conditions: [{ type: 'Available', status: 'False' }, { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: QUOTA }] } });
const entry = (deployment: NonNullable<ClusterApp['cluster']['deployment']>) => clusterDirectoryApp({ desired, cluster: { application: progressing, deployment } }, 'aerogrid.test');

describe('the cluster directory entry of an app', () => {
  it('reads the refusal from the Deployment\'s ReplicaFailure condition, only while it holds', () => {
    expect(refused).toBe(QUOTA);
    expect(refusedPods({ status: { conditions: [{ type: 'ReplicaFailure', status: 'False', message: QUOTA }] } })).toBeUndefined();
  });

  it('shows an app whose pods the cluster refuses as failing with the reason, not as starting', () => {
    expect(entry({ replicas: 2, available: 0, updated: 2, current: true, refused })).toMatchObject({ status: 'failing', ready: false, url: null, message: `the cluster refuses its pods: ${QUOTA}` });
    expect(entry({ replicas: 2, available: 0, updated: 2, current: true })).toMatchObject({ status: 'starting', ready: false });
  });

  it('keeps an app with a pod serving running, and says that the others are refused', () => {
    expect(entry({ replicas: 2, available: 1, updated: 2, current: true, refused })).toMatchObject({ status: 'running', ready: true, message: `the cluster refuses some of its pods: ${QUOTA}` });
  });
});
