/**
 * The partition assignor that makes one instance of an app its only writer: every partition of
 * every topic the group reads goes to one member, and the others get nothing (they stand by).
 *
 * Sticky: each member says in its join metadata since when it has held the partitions (epoch ms,
 * or nothing while it stands by); the group leader gives everything to the most recent holder, so
 * a rebalance (a standby joining or leaving) leaves the writer where it is, and an instance that
 * was paused and comes back finds that a newer holder took over. When nobody holds them, the
 * first member by id gets them.
 *
 * The assignment is what decides who *should* write; what guarantees that nobody else *can* is
 * the transactional id shared by all instances (see docs/protocol.md §1, "One writer per app").
 */
import kafkajs from 'kafkajs';
import type { Assigner, GroupMember, PartitionAssigner } from 'kafkajs';

const { AssignerProtocol } = kafkajs;
const { MemberMetadata, MemberAssignment } = AssignerProtocol;

export const SINGLE_WRITER_PROTOCOL = 'AeroGridSingleWriter';
const VERSION = 1;

/** What a member claims when it joins: since when it holds the partitions, or null. */
export interface WriterClaim {
  heldSince: number | null;
}

function claimOf(member: GroupMember): WriterClaim {
  try {
    const { userData } = MemberMetadata.decode(member.memberMetadata) ?? {};
    const parsed: unknown = userData && userData.length > 0 ? JSON.parse(userData.toString('utf8')) : null;
    const since = (parsed as { heldSince?: unknown } | null)?.heldSince;
    return { heldSince: typeof since === 'number' && Number.isFinite(since) ? since : null };
  } catch {
    return { heldSince: null };
  }
}

/** The member that gets every partition: the most recent holder, else the first by id. */
export function chooseWriter(members: { memberId: string; claim: WriterClaim }[]): string | null {
  if (members.length === 0) return null;
  const holders = members.filter((m) => m.claim.heldSince !== null);
  if (holders.length > 0) {
    return holders.reduce((a, b) => (b.claim.heldSince! > a.claim.heldSince! || (b.claim.heldSince === a.claim.heldSince && b.memberId < a.memberId) ? b : a)).memberId;
  }
  return members.map((m) => m.memberId).sort()[0]!;
}

/** An assignor for kafkajs' `partitionAssigners`; `claim` is asked at every join. */
export function singleWriterAssigner(claim: () => WriterClaim): PartitionAssigner {
  return ({ cluster }): Assigner => ({
    name: SINGLE_WRITER_PROTOCOL,
    version: VERSION,
    async assign({ members, topics }) {
      const writer = chooseWriter(members.map((m) => ({ memberId: m.memberId, claim: claimOf(m) })));
      const all: Record<string, number[]> = {};
      for (const topic of topics) all[topic] = cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId).sort((a, b) => a - b);
      return members.map((m) => ({
        memberId: m.memberId,
        memberAssignment: MemberAssignment.encode({ version: VERSION, assignment: m.memberId === writer ? all : {}, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return {
        name: SINGLE_WRITER_PROTOCOL,
        metadata: MemberMetadata.encode({ version: VERSION, topics, userData: Buffer.from(JSON.stringify(claim()), 'utf8') }),
      };
    },
  });
}
