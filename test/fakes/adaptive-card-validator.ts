import { createRequire } from 'node:module';

// The package's `main` (lib/) is ES modules in .js files of a CommonJS package: Node 20.19+ loads it
// through require(esm) and fails on its extensionless imports, and what tsx makes of it depends on
// the Node version. Its own UMD bundle is one CommonJS file that loads alike everywhere.
const AC = createRequire(import.meta.url)('adaptivecards/dist/adaptivecards.js') as typeof import('adaptivecards');

/**
 * Validates an Adaptive Card against version `version` with Microsoft's own reference library
 * (`adaptivecards`, the renderer's parser: it reports unknown elements and actions, values outside
 * an enum, and elements or properties newer than the version), plus the fields the schema marks as
 * required, which the library fills with defaults instead of refusing. No npm package ships the
 * adaptive-card.json schema of 1.4 or 1.5, so this is the check. Returns the problems; empty when valid.
 */
export function validateAdaptiveCard(card: unknown, version: '1.4' | '1.5' = '1.4'): string[] {
  const problems: string[] = [];
  if (!card || typeof card !== 'object') return ['the card is not an object'];
  const c = card as Record<string, unknown>;
  if (c['type'] !== 'AdaptiveCard') problems.push('type: must be "AdaptiveCard"');
  if (typeof c['version'] !== 'string' || !/^\d+\.\d+$/.test(c['version'])) problems.push('version: required, such as "1.4"');
  else if (Number(c['version']) > Number(version)) problems.push(`version: ${c['version']} is newer than ${version}`);
  required(card, '', problems);

  const context = new AC.SerializationContext(version === '1.4' ? AC.Versions.v1_4 : AC.Versions.v1_5);
  const parsed = new AC.AdaptiveCard();
  parsed.parse(card, context);
  for (let i = 0; i < context.eventCount; i++) {
    const e = context.getEventAt(i);
    problems.push(`${AC.ValidationEvent[e.event]}: ${e.message}`);
  }
  for (const e of parsed.validateProperties().validationEvents) problems.push(`${AC.ValidationEvent[e.event]}: ${e.message}`);
  return problems;
}

// The schema's required properties of the elements and actions a card may hold (adaptivecards.io/explorer).
const REQUIRED: Record<string, string[]> = {
  TextBlock: ['text'],
  RichTextBlock: ['inlines'],
  TextRun: ['text'],
  FactSet: ['facts'],
  Image: ['url'],
  ImageSet: ['images'],
  Container: ['items'],
  ColumnSet: [],
  ActionSet: ['actions'],
  'Action.OpenUrl': ['url'],
  'Action.Submit': [],
  'Action.ShowCard': [],
  'Action.ToggleVisibility': ['targetElements'],
  'Action.Execute': [],
};

/** Walks the card: every typed object has its required properties, facts have a title and a value, URLs are absolute. */
function required(node: unknown, path: string, problems: string[]): void {
  if (Array.isArray(node)) {
    node.forEach((n, i) => required(n, `${path}[${i}]`, problems));
    return;
  }
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  const type = o['type'];
  if (typeof type === 'string' && REQUIRED[type]) {
    for (const key of REQUIRED[type]) if (o[key] === undefined || o[key] === '') problems.push(`${path}: ${type} requires "${key}"`);
  }
  if (type === 'FactSet' && Array.isArray(o['facts'])) {
    o['facts'].forEach((f: { title?: unknown; value?: unknown }, i) => {
      if (typeof f?.title !== 'string' || typeof f?.value !== 'string')
        problems.push(`${path}.facts[${i}]: a fact needs a title and a value`);
    });
  }
  if ((type === 'Action.OpenUrl' || type === 'Image') && typeof o['url'] === 'string' && !/^https?:\/\//.test(o['url']))
    problems.push(`${path}: ${type} url must be absolute (http or https)`);
  if (type === 'RichTextBlock' && Array.isArray(o['inlines'])) {
    o['inlines'].forEach((inline: unknown, i) => {
      if (typeof inline !== 'string' && (inline as { type?: unknown })?.type !== 'TextRun')
        problems.push(`${path}.inlines[${i}]: only TextRun (or a string) may be inline`);
    });
  }
  for (const [k, v] of Object.entries(o)) if (typeof v === 'object') required(v, `${path}.${k}`, problems);
}
