/**
 * @module cli/commands/identity
 * Device identity and admin access: enrollment tokens (`tokens create|list|revoke`), admin API
 * tokens (`admin-tokens create|list|revoke`), one device (`devices show|set|disable|enable|revoke`)
 * and the audit log (`audit`). Plaintext tokens are printed once, when created.
 */
import type { AdminRole, DeviceLabelsRequest } from '@edgeloop/protocol';
import { ADMIN_ROLES } from '@edgeloop/protocol/rest';
import {
  UsageError,
  listFlag,
  parseDuration,
  parsePositiveInt,
  parseTags,
  printJson,
  rejectOperands,
  stringFlag,
  type CommandContext,
  type CommandTable,
} from '../command.js';
import { EMPTY_CELL, formatAssignment, formatRelativeTime, formatTimestamp, renderTable } from '../format.js';

function oneId(operands: string[], command: string, what: string): string {
  const [id, extra] = operands;
  if (id === undefined) throw new UsageError(`"edgeloop ${command}" needs the ${what}`);
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}" for "edgeloop ${command}"`);
  return id;
}

const tagText = (tags: Record<string, string>) =>
  Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(',') || EMPTY_CELL;

async function createToken({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'tokens create');
  const uses = stringFlag(flags, 'uses');
  const ttl = stringFlag(flags, 'ttl');
  const group = stringFlag(flags, 'group');
  const tags = listFlag(flags, 'tag');
  const ttlMs = ttl === undefined ? undefined : parseDuration(ttl, '--ttl');
  if (ttlMs !== undefined && ttlMs < 60_000) throw new UsageError('--ttl must be at least 1m');
  const client = connect();
  const body = await client.createEnrollmentToken({
    body: {
      ...(uses !== undefined ? { uses: parsePositiveInt(uses, '--uses') } : {}),
      ...(ttlMs !== undefined ? { ttlSeconds: Math.round(ttlMs / 1000) } : {}),
      ...(group !== undefined ? { group } : {}),
      ...(tags.length ? { tags: parseTags(tags) } : {}),
    },
  });
  if (flags.json) return printJson(io, body);
  const t = body.enrollmentToken;
  io.out(body.token);
  io.err(
    `enrollment token ${t.id}: ${t.uses} use${t.uses === 1 ? '' : 's'}, expires ${formatTimestamp(t.expiresAt)}` +
      `${t.group ? `, group ${t.group}` : ''}${Object.keys(t.tags).length ? `, tags ${tagText(t.tags)}` : ''}.\n` +
      `It is shown only now. On the device: edgeloop-agent enroll --fleet ${client.baseUrl} --token <token>` +
      `${body.caFingerprint ? ` --ca-fingerprint ${body.caFingerprint}` : ''}`,
  );
}

async function listTokens({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'tokens list');
  const body = await connect().listEnrollmentTokens();
  if (flags.json) return printJson(io, body);
  if (!body.enrollmentTokens.length) return io.out('no enrollment tokens; create one with: edgeloop tokens create');
  io.out(
    renderTable(
      ['ID', 'STATUS', 'USES LEFT', 'EXPIRES', 'GROUP', 'TAGS', 'CREATED BY'],
      body.enrollmentTokens.map((t) => [
        t.id,
        t.status,
        `${t.usesLeft}/${t.uses}`,
        formatTimestamp(t.expiresAt),
        t.group ?? EMPTY_CELL,
        tagText(t.tags),
        t.createdBy,
      ]),
    ),
  );
}

async function revokeToken({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const id = oneId(operands, 'tokens revoke', 'token id (edgeloop tokens list)');
  const body = await connect().revokeEnrollmentToken({ params: { id } });
  if (flags.json) return printJson(io, body);
  io.out(`revoked enrollment token ${id}; devices already enrolled with it keep their credentials`);
}

async function createAdmin({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'admin-tokens create');
  const name = stringFlag(flags, 'name');
  if (!name) throw new UsageError('--name N is required: who uses the token (it is recorded in the audit log)');
  const role = stringFlag(flags, 'role');
  if (role !== undefined && !(ADMIN_ROLES as readonly string[]).includes(role))
    throw new UsageError(
      `--role must be one of ${ADMIN_ROLES.join(', ')} (viewer reads, operator also runs the fleet, admin also manages keys, tokens and devices' access), not "${role}"`,
    );
  const body = await connect().createAdminToken({
    body: { name, ...(role ? { role: role as AdminRole } : {}) },
  });
  if (flags.json) return printJson(io, body);
  io.out(body.token);
  io.err(
    `admin token ${body.adminToken.id} "${body.adminToken.name}" (${body.adminToken.role}). It is shown only now; use it with --token or EDGELOOP_TOKEN.`,
  );
}

async function listAdmins({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'admin-tokens list');
  const body = await connect().listAdminTokens();
  if (flags.json) return printJson(io, body);
  io.out(
    renderTable(
      ['ID', 'NAME', 'ROLE', 'STATUS', 'CREATED', 'CREATED BY', 'LAST USED'],
      body.adminTokens.map((a) => [
        a.id,
        a.name,
        a.role,
        a.revokedAt === null ? 'active' : 'revoked',
        formatTimestamp(a.createdAt),
        a.createdBy,
        formatRelativeTime(a.lastUsedAt),
      ]),
    ),
  );
}

async function revokeAdmin({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const id = oneId(operands, 'admin-tokens revoke', 'token id (edgeloop admin-tokens list)');
  const body = await connect().revokeAdminToken({ params: { id } });
  if (flags.json) return printJson(io, body);
  io.out(`revoked admin token ${id} ("${body.adminToken.name}")`);
}

async function showDevice({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const id = oneId(operands, 'devices show', 'device id');
  const body = await connect().getDevice({ params: { id } });
  if (flags.json) return printJson(io, body);
  const d = body.device;
  const rows: Array<[string, string]> = [
    ['device', d.id],
    [
      'status',
      d.disabled
        ? 'disabled (refused by the broker; edgeloop devices enable to allow it again)'
        : d.online
          ? 'online'
          : 'offline',
    ],
    ['last seen', formatRelativeTime(d.lastSeen)],
    [
      'credential',
      body.credential
        ? `issued ${formatTimestamp(body.credential.issuedAt)} (username ${body.credential.username})`
        : 'none: enroll the device (edgeloop tokens create, then edgeloop-agent enroll)',
    ],
    ['group', d.group ?? EMPTY_CELL],
    ['tags', tagText(d.tags)],
    ['agent', `${d.agentVersion ?? EMPTY_CELL} on ${d.arch ?? '?'}${d.hardware ? ` (${d.hardware})` : ''}`],
    ['running', d.models.map((m) => `${m.name} v${m.version}`).join(', ') || EMPTY_CELL],
    ['assigned', d.assignments.map(formatAssignment).join('; ') || EMPTY_CELL],
    ['records', `${d.records} stored, backlog ${d.backlog}, dropped ${d.dropped}`],
  ];
  io.out(rows.map(([k, v]) => `${k.padEnd(11)} ${v}`).join('\n'));
  if (body.events.length) {
    io.out(
      `\nrecent update reports:\n${renderTable(
        ['WHEN', 'MODEL', 'STATE', 'REASON'],
        body.events
          .slice(0, 10)
          .map((e) => [
            formatRelativeTime(e.receivedAt),
            `${e.model} v${e.version}`,
            e.code ? `${e.state} (${e.code})` : e.state,
            e.reason ?? '',
          ]),
      )}`,
    );
  }
}

async function setDevice({ operands, flags, io, connect }: CommandContext): Promise<void> {
  const id = oneId(operands, 'devices set', 'device id');
  const group = stringFlag(flags, 'group');
  const tags = listFlag(flags, 'tag');
  if (group === undefined && tags.length === 0)
    throw new UsageError('give --group G (empty "" clears it) and/or --tag k=v (replaces all tags)');
  const body: DeviceLabelsRequest = {
    ...(group !== undefined ? { group: group === '' ? null : group } : {}),
    ...(tags.length ? { tags: parseTags(tags) } : {}),
  };
  const res = await connect().setDeviceLabels({ params: { id }, body });
  if (flags.json) return printJson(io, res);
  io.out(`${id}: group ${res.device.group ?? EMPTY_CELL}, tags ${tagText(res.device.tags)}`);
}

const DEVICE_VERBS = { disable: 'disableDevice', enable: 'enableDevice', revoke: 'revokeDeviceCredential' } as const;

function deviceVerb(verb: keyof typeof DEVICE_VERBS, done: string) {
  return async ({ operands, flags, io, connect }: CommandContext): Promise<void> => {
    const id = oneId(operands, `devices ${verb}`, 'device id');
    const res = await connect()[DEVICE_VERBS[verb]]({ params: { id } });
    if (flags.json) return printJson(io, res);
    io.out(`${id}: ${done}`);
  };
}

async function audit({ operands, flags, io, connect }: CommandContext): Promise<void> {
  rejectOperands(operands, 'audit');
  const limit = stringFlag(flags, 'limit');
  const before = stringFlag(flags, 'before');
  const body = await connect().listAudit({
    query: {
      actor: stringFlag(flags, 'actor'),
      action: stringFlag(flags, 'action'),
      target: stringFlag(flags, 'target'),
      before: before === undefined ? undefined : parsePositiveInt(before, '--before'),
      limit: limit === undefined ? undefined : parsePositiveInt(limit, '--limit'),
    },
  });
  if (flags.json) return printJson(io, body);
  if (!body.entries.length) return io.out('no audit entries match');
  io.out(
    renderTable(
      ['ID', 'WHEN', 'WHO', 'WHAT', 'TARGET', 'DETAILS'],
      body.entries.map((e) => [
        String(e.id),
        formatTimestamp(e.ts),
        e.actor,
        e.action,
        e.target ?? EMPTY_CELL,
        Object.keys(e.details).length ? JSON.stringify(e.details).slice(0, 80) : '',
      ]),
    ),
  );
}

const str = { type: 'string' } as const;
const tag = { type: 'string', multiple: true } as const;

export const identityCommands: CommandTable = {
  'tokens create': {
    synopsis: '[--uses N] [--ttl 24h] [--group G] [--tag k=v]',
    summary: 'an enrollment token for devices (printed once)',
    options: { uses: str, ttl: str, group: str, tag },
    run: createToken,
  },
  'tokens list': { summary: 'enrollment tokens: uses left, expiry, status (never the secret)', run: listTokens },
  'tokens revoke': {
    synopsis: '<id>',
    summary: 'stop an enrollment token from enrolling more devices',
    run: revokeToken,
  },
  'admin-tokens create': {
    synopsis: '--name N [--role viewer|operator|admin]',
    summary: 'an admin API token (printed once; N is the audit log\'s "who"; role admin unless given)',
    options: { name: str, role: str },
    run: createAdmin,
  },
  'admin-tokens list': { summary: 'admin tokens and when they were last used', run: listAdmins },
  'admin-tokens revoke': { synopsis: '<id>', summary: 'revoke an admin token', run: revokeAdmin },
  'devices show': {
    synopsis: '<id>',
    summary: 'one device: status, credential, group, tags, models, recent reports',
    run: showDevice,
  },
  'devices set': {
    synopsis: '<id> [--group G] [--tag k=v]',
    summary: "set the device's group and/or replace its tags",
    options: { group: str, tag },
    run: setDevice,
  },
  'devices disable': {
    synopsis: '<id>',
    summary: 'refuse the device at the broker and close its session',
    run: deviceVerb('disable', 'disabled; its broker session was closed and it cannot connect or re-enroll'),
  },
  'devices enable': {
    synopsis: '<id>',
    summary: 'allow a disabled device again',
    run: deviceVerb('enable', 'enabled; it can connect with its credentials again'),
  },
  'devices revoke': {
    synopsis: '<id>',
    summary: "delete the device's credential (it must enroll again)",
    run: deviceVerb('revoke', 'credential revoked; the device must enroll again (edgeloop tokens create)'),
  },
  audit: {
    synopsis: '[--actor A] [--action X] [--target T] [--limit N]',
    summary: 'who changed what, newest first',
    options: { actor: str, action: str, target: str, before: str, limit: str },
    run: audit,
  },
};
