// The name rules live in @aerogrid/protocol. The runtime protocol and the core still import them
// from here, with the runtime protocol's wording ("must be a DNS-1123 label (it ...)").
import { nameProblemText } from '@aerogrid/protocol/names';

export { topicAllowed } from '@aerogrid/protocol/names';

export const dnsLabelProblem = (value: unknown): string | null => nameProblemText('app', value);
export const topicNameProblem = (value: unknown): string | null => nameProblemText('topic', value);
export const gridNameProblem = (value: unknown): string | null => nameProblemText('grid', value);
