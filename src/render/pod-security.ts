// Kubernetes Pod Security Standards, "restricted" profile (baseline included), as the admission
// controller checks a pod spec. Pure, so the same rules apply to every rendered workload.

const ALLOWED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);

export function podSecurityProblems(pod: Record<string, any>): string[] {
  const problems: string[] = [];
  for (const key of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (pod[key] === true) problems.push(`${key} must not be true`);
  }
  for (const volume of pod.volumes ?? []) {
    const types = Object.keys(volume).filter((k) => k !== 'name');
    const bad = types.filter((t) => !ALLOWED_VOLUMES.includes(t));
    if (bad.length) problems.push(`volume '${volume.name}' uses ${bad.join(', ')}; only ${ALLOWED_VOLUMES.join(', ')} are allowed`);
  }
  const podContext = pod.securityContext ?? {};
  if (podContext.runAsUser === 0) problems.push('securityContext.runAsUser must not be 0');
  if (podContext.seLinuxOptions?.type && !['container_t', 'container_init_t', 'container_kvm_t'].includes(podContext.seLinuxOptions.type)) problems.push('securityContext.seLinuxOptions.type is not allowed');
  for (const sysctl of podContext.sysctls ?? []) {
    if (!/^(kernel\.shm_rmid_forced|net\.ipv4\.ip_local_port_range|net\.ipv4\.ip_unprivileged_port_start|net\.ipv4\.tcp_syncookies|net\.ipv4\.ping_group_range|net\.ipv4\.ip_local_reserved_ports|net\.ipv4\.tcp_keepalive_time|net\.ipv4\.tcp_fin_timeout|net\.ipv4\.tcp_keepalive_intvl|net\.ipv4\.tcp_keepalive_probes)$/.test(sysctl.name)) problems.push(`sysctl ${sysctl.name} is not allowed`);
  }
  const containers = [...(pod.initContainers ?? []), ...(pod.containers ?? []), ...(pod.ephemeralContainers ?? [])];
  for (const c of containers) {
    const ctx = c.securityContext ?? {};
    const name = `container '${c.name}'`;
    if (ctx.privileged === true) problems.push(`${name} must not be privileged`);
    if (ctx.allowPrivilegeEscalation !== false) problems.push(`${name} must set securityContext.allowPrivilegeEscalation: false`);
    const runAsNonRoot = ctx.runAsNonRoot ?? podContext.runAsNonRoot;
    if (runAsNonRoot !== true) problems.push(`${name} must run as non-root (securityContext.runAsNonRoot: true on the pod or container)`);
    if (ctx.runAsUser === 0) problems.push(`${name} must not set runAsUser: 0`);
    const seccomp = ctx.seccompProfile?.type ?? podContext.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${name} must use seccompProfile RuntimeDefault or Localhost`);
    const drop: string[] = ctx.capabilities?.drop ?? [];
    if (!drop.includes('ALL')) problems.push(`${name} must drop ALL capabilities`);
    for (const cap of ctx.capabilities?.add ?? []) {
      if (cap !== 'NET_BIND_SERVICE') problems.push(`${name} adds capability ${cap}; only NET_BIND_SERVICE may be added`);
      if (!BASELINE_CAPABILITIES.has(cap)) problems.push(`${name} adds capability ${cap}, which even "baseline" forbids`);
    }
    if (ctx.procMount && ctx.procMount !== 'Default') problems.push(`${name} must use the default procMount`);
    if (ctx.appArmorProfile?.type === 'Unconfined') problems.push(`${name} must not be AppArmor-unconfined`);
    for (const port of c.ports ?? []) if (port.hostPort) problems.push(`${name} must not use hostPort ${port.hostPort}`);
  }
  return problems;
}
