"""The graph schema, declared once: node labels, edge types and their attributes.

The projection (:mod:`tracegraph.graph.project`), the GraphML writer, the Neo4j
exporter and ``docs/graph-schema.md`` all read these declarations; nothing else
names a label, an edge type or an attribute. The document is rendered from them by
:mod:`tracegraph.graph.schema_docs`; regenerate it with::

    python -m tracegraph.graph.schema_docs > docs/graph-schema.md

Identity. A node's key (its networkx node id) is
``f"{trace_id}/{label}/{object_id}"`` (:func:`node_key`): the trace id, the
label and the object's own id in the reduced model (``thread_id``,
``tool_call_id``, ...; ``rollout_id`` for the Rollout node). Keys of different
traces never collide, so graphs of many rollouts compose. Every node also
carries ``label``, ``trace_id`` and ``object_id`` as attributes.

An edge's key (its networkx multigraph key, and its GraphML ``id``) is
``f"{source key}|{TYPE}|{target label}/{target object_id}"``, followed by
``|name=value`` pairs of the attributes that tell parallel edges of that type
apart (:attr:`EdgeType.distinct_by`, e.g. the ``position`` of an item that a
request lists twice). It is stored in the ``edge_key`` attribute. Evidence for
the same relationship from several fields of the reduced model yields one
edge, not one per field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "BUNDLE_ONLY_LABELS",
    "DERIVED_EDGE_ATTRIBUTES",
    "EDGES",
    "EDGE_ATTRIBUTES",
    "EXECUTION",
    "FAILED_RUNTIME_STATUSES",
    "FAILED_STATUSES",
    "GRAPH_SCHEMA_VERSION",
    "INTERACTION_RELS",
    "NODES",
    "NODE_ATTRIBUTES",
    "POSITION",
    "PREVIEW_CHARS",
    "SCHEMA",
    "SESSION_ATTRIBUTES",
    "SESSION_GAPS",
    "SESSION_RULES",
    "Attr",
    "AttrType",
    "EdgeType",
    "Label",
    "NodeType",
    "Provenance",
    "Rel",
    "RequestInputForm",
    "Rule",
    "Schema",
    "Source",
    "node_key",
    "sources_of",
]

#: Version of this schema; bump it when a label, edge type or attribute changes meaning.
GRAPH_SCHEMA_VERSION = 2

#: Longest text kept in ``*preview`` attributes; longer text ends with "…".
PREVIEW_CHARS = 400


class Label(StrEnum):
    """Node labels: one per kind of reduced object."""

    ROLLOUT = "Rollout"
    THREAD = "Thread"
    TURN = "Turn"
    CONVERSATION_ITEM = "ConversationItem"
    INFERENCE_CALL = "InferenceCall"
    TOOL_CALL = "ToolCall"
    CODE_CELL = "CodeCell"
    TERMINAL_SESSION = "TerminalSession"
    TERMINAL_OPERATION = "TerminalOperation"
    COMPACTION = "Compaction"
    COMPACTION_REQUEST = "CompactionRequest"
    RAW_PAYLOAD = "RawPayload"


class Rel(StrEnum):
    """Edge types, named as verbs (Neo4j relationship-type style)."""

    HAS_THREAD = "HAS_THREAD"
    HAS_CHILD = "HAS_CHILD"
    HAS_TURN = "HAS_TURN"
    HAS_ITEM = "HAS_ITEM"
    NEXT_ITEM = "NEXT_ITEM"
    CONTAINS = "CONTAINS"
    TRIGGERED = "TRIGGERED"
    PROMPTED = "PROMPTED"
    EXTENDS = "EXTENDS"
    RESPONDED_WITH = "RESPONDED_WITH"
    STARTED = "STARTED"
    PRODUCED = "PRODUCED"
    INVOKED = "INVOKED"
    RESULTED_IN = "RESULTED_IN"
    ANSWERED_BY = "ANSWERED_BY"
    REQUESTED = "REQUESTED"
    AWAITED_BY = "AWAITED_BY"
    EXECUTED = "EXECUTED"
    USED_TERMINAL = "USED_TERMINAL"
    CREATED_TERMINAL = "CREATED_TERMINAL"
    OBSERVED_BY = "OBSERVED_BY"
    INSTALLED_MARKER = "INSTALLED_MARKER"
    COMPACTED_INTO = "COMPACTED_INTO"
    REPLACED_WITH = "REPLACED_WITH"
    MADE_REQUEST = "MADE_REQUEST"
    SPAWNED_AGENT = "SPAWNED_AGENT"
    ASSIGNED_TASK = "ASSIGNED_TASK"
    SENT_MESSAGE = "SENT_MESSAGE"
    DELIVERED_RESULT = "DELIVERED_RESULT"
    CLOSED_AGENT = "CLOSED_AGENT"
    EVIDENCED_BY = "EVIDENCED_BY"
    HAS_RAW_PAYLOAD = "HAS_RAW_PAYLOAD"


class RequestInputForm(StrEnum):
    """How the graph records each inference request's input (``request_item_ids``).

    The graph attribute ``request_input_form`` says which one a graph uses; the
    canned queries answer the same on both.
    """

    #: A request whose input extends its predecessor's (same thread) EXTENDS it and
    #: gets PROMPTED edges only for the items it adds: edges grow with the events.
    DELTA = "delta"
    #: Every request gets a PROMPTED edge from every item of its input: edges grow
    #: with the square of the turns.
    FULL_SNAPSHOT = "full_snapshot"


class AttrType(StrEnum):
    """Value type of an attribute. Lists become JSON strings in GraphML."""

    STRING = "string"
    INT = "int"
    BOOL = "bool"
    STRING_LIST = "list[string]"


class Provenance(StrEnum):
    """Where an edge type comes from."""

    #: Read as is from fields of the reduced model.
    MODEL = "model"
    #: Inferred from several pieces of evidence; each edge lists its rules in ``derived_by``.
    DERIVED = "derived"


@dataclass(frozen=True)
class Attr:
    name: str
    type: AttrType
    description: str


@dataclass(frozen=True)
class Rule:
    """One way a derived edge can be inferred."""

    name: str
    description: str


@dataclass(frozen=True)
class NodeType:
    label: Label
    #: ``RolloutTrace`` map holding these objects; ``None`` for the Rollout itself.
    model_map: str | None
    #: Field of the reduced object stored as ``object_id``.
    id_field: str
    description: str
    #: Label-specific attributes (the common ones are :data:`NODE_ATTRIBUTES`).
    attributes: tuple[Attr, ...]


@dataclass(frozen=True)
class EdgeType:
    name: Rel
    #: Allowed (source label, target label) pairs.
    endpoints: tuple[tuple[Label, Label], ...]
    provenance: Provenance
    description: str
    #: Fields of the reduced model the edge is read from (``Class.field``).
    fields: tuple[str, ...]
    #: Derivation rules; non-empty exactly when ``provenance`` is DERIVED.
    rules: tuple[Rule, ...] = ()
    #: Type-specific attributes (the common ones are :data:`EDGE_ATTRIBUTES`).
    attributes: tuple[Attr, ...] = ()
    #: Attributes that tell parallel edges of this type between two nodes apart.
    distinct_by: tuple[str, ...] = ()
    #: Model enum value this type stands for (interaction edges only).
    model_kind: str | None = None

    @property
    def sources(self) -> tuple[Label, ...]:
        return tuple(dict.fromkeys(source for source, _ in self.endpoints))

    @property
    def targets(self) -> tuple[Label, ...]:
        return tuple(dict.fromkeys(target for _, target in self.endpoints))


@dataclass(frozen=True)
class Schema:
    nodes: tuple[NodeType, ...]
    edges: tuple[EdgeType, ...]
    node_attributes: tuple[Attr, ...] = field(default=())
    edge_attributes: tuple[Attr, ...] = field(default=())
    derived_edge_attributes: tuple[Attr, ...] = field(default=())

    def node(self, label: Label | str) -> NodeType:
        return _NODES_BY_LABEL[Label(label)]

    def edge(self, name: Rel | str) -> EdgeType:
        return _EDGES_BY_NAME[Rel(name)]

    def node_attrs(self, label: Label | str) -> dict[str, Attr]:
        """Every attribute a node of ``label`` may carry, by name."""
        extra = SESSION_ATTRIBUTES.get(Label(label), ())
        attrs = (*self.node_attributes, *self.node(label).attributes, *extra)
        return {attr.name: attr for attr in attrs}

    def edge_attrs(self, name: Rel | str) -> dict[str, Attr]:
        """Every attribute an edge of type ``name`` may carry, by name."""
        edge = self.edge(name)
        derived = (self.derived_edge_attributes
                   if edge.provenance is Provenance.DERIVED or edge.name in SESSION_RULES else ())
        attrs = (*self.edge_attributes, *derived, *edge.attributes)
        return {attr.name: attr for attr in attrs}


def node_key(trace_id: str, label: Label | str, object_id: str) -> str:
    """Globally unique node key: ``{trace_id}/{label}/{object_id}``."""
    return f"{trace_id}/{Label(label).value}/{object_id}"


# --- attribute building blocks ----------------------------------------------

_S, _I, _B, _L = AttrType.STRING, AttrType.INT, AttrType.BOOL, AttrType.STRING_LIST


def _a(name: str, type_: AttrType, description: str) -> Attr:
    return Attr(name, type_, description)


NODE_ATTRIBUTES: tuple[Attr, ...] = (
    _a("label", _S, "Node label (also the display label in Gephi, yEd and Cytoscape)."),
    _a("trace_id", _S, "Trace the object belongs to (manifest `trace_id`)."),
    _a("object_id", _S, "The object's own id in the reduced model (see each label's id field)."),
)

EDGE_ATTRIBUTES: tuple[Attr, ...] = (
    _a("label", _S, "Edge type (also the display label in graph viewers)."),
    _a("edge_key", _S, "Unique edge id: the multigraph key and the GraphML edge id."),
    _a("trace_id", _S, "Trace the edge belongs to."),
    _a("provenance", _S, "`model` or `derived`, as declared for the edge type."),
)

DERIVED_EDGE_ATTRIBUTES: tuple[Attr, ...] = (
    _a("derived_by", _L, "Names of the rules (of this edge type) that support the edge."),
)

EXECUTION: tuple[Attr, ...] = (
    _a("status", _S, "`execution.status`: running, completed, failed, cancelled or aborted."),
    _a("started_at_unix_ms", _I, "`execution.started_at_unix_ms` (wall clock, for display)."),
    _a("started_seq", _I, "`execution.started_seq`: raw event seq, the causal order."),
    _a("ended_at_unix_ms", _I, "`execution.ended_at_unix_ms`; absent while running."),
    _a("ended_seq", _I, "`execution.ended_seq`; absent while running."),
    _a("duration_ms", _I, "ended_at_unix_ms - started_at_unix_ms, when both are known."),
)

POSITION = _a("position", _I, "0-based index in the list the edge was read from.")


def _pairs(sources: tuple[Label, ...], targets: tuple[Label, ...]) -> tuple[tuple[Label, Label], ...]:
    return tuple(dict.fromkeys((source, target) for source in sources for target in targets))


def _unique(*pairs: tuple[Label, Label]) -> tuple[tuple[Label, Label], ...]:
    return tuple(dict.fromkeys(pairs))


# --- node labels -------------------------------------------------------------

NODES: tuple[NodeType, ...] = (
    NodeType(Label.ROLLOUT, None, "rollout_id", "The traced Codex rollout (one per trace bundle).", (
        _a("rollout_id", _S, "CLI-visible rollout/session id."),
        _a("schema_version", _I, "Reduced-trace schema version of the source state."),
        _a("status", _S, "Rollout status: running, completed, failed or aborted."),
        _a("started_at_unix_ms", _I, "Rollout start (wall clock)."),
        _a("ended_at_unix_ms", _I, "Rollout end; absent while running or for a partial trace."),
        _a("duration_ms", _I, "ended_at_unix_ms - started_at_unix_ms, when both are known."),
        _a("root_thread_id", _S, "Thread id of the root session."),
        _a("dialect", _S, "Trace format the reducer used: `seed` (first published format) or "
           "`upstream` (current Codex)."),
        _a("partial", _B, "True when the bundle was caught mid-write and its unfinished end (a "
           "torn final event line, or under `--lenient` events whose payload files are missing) "
           "was left out."),
        _a("unknown_types", _L, "What a `--lenient` replay did not understand, one `KIND TYPE "
           "xCOUNT` entry per type: `event` types were skipped, `variant` entries "
           "(`EVENT.FIELD:TAG`, e.g. `tool_call_started.requester:continuity_diagnostic`) name "
           "events skipped for a variant no dialect has, `model_item` types were kept as "
           "opaque conversation items. Absent when everything was understood."),
    )),
    NodeType(Label.THREAD, "threads", "thread_id",
             "One Codex thread/session (agent); the root session is one too.", (
        _a("agent_path", _S, "Stable routing path such as `/root` or `/root/worker`."),
        _a("nickname", _S, "Presentation hint; not an identity."),
        _a("origin", _S, "`root` or `spawned`."),
        _a("is_root", _B, "True for the rollout's root thread."),
        _a("parent_thread_id", _S, "Spawning thread (spawned threads only)."),
        _a("spawn_edge_id", _S, "Interaction edge that carried the spawn task (spawned only)."),
        _a("task_name", _S, "Task name chosen by the parent (spawned only)."),
        _a("agent_role", _S, "Agent role/type, e.g. `worker` (spawned only)."),
        _a("default_model", _S, "Configured model (inference calls carry the actual one)."),
        *EXECUTION,
    )),
    NodeType(Label.TURN, "codex_turns", "codex_turn_id",
             "One activation of the Codex runtime for one thread (not a chat turn).", (
        _a("thread_id", _S, "Owning thread."),
        *EXECUTION,
    )),
    NodeType(Label.CONVERSATION_ITEM, "conversation_items", "item_id",
             "One model-visible transcript item, or a compaction marker.", (
        _a("thread_id", _S, "Thread that first observed the item."),
        _a("codex_turn_id", _S, "Turn that first introduced the item, when known."),
        _a("first_seen_at_unix_ms", _I, "When the reducer first saw the item."),
        _a("role", _S, "system, developer, user, assistant or tool."),
        _a("channel", _S, "analysis, commentary, final or summary, when channel-specific."),
        _a("kind", _S, "message, reasoning, function_call, function_call_output, "
                      "custom_tool_call, custom_tool_call_output or compaction_marker; `opaque` "
                      "for an item of a type the reducer does not know (`--lenient`)."),
        _a("call_id", _S, "Model-visible `call_id` of tool call and output items."),
        _a("agent_message_author", _S, "Author of a typed `agent_message` item (upstream dialect)."),
        _a("agent_message_recipient", _S, "Recipient of a typed `agent_message` item."),
        _a("part_types", _L, "Types of the body parts, in order (text, summary, encoded, json, code, payload_ref)."),
        _a("producer_types", _L, "Types of the `produced_by` entries, in order (inference, tool, "
                                "code_cell, interaction_edge, compaction, user_input, harness)."),
        _a("preview", _S, f"Body text (text, summary and code parts; json summaries; `[label]` for "
                         f"encoded and payload_ref parts) joined by newlines, cut at {PREVIEW_CHARS} "
                         "characters; absent when empty."),
        _a("body_chars", _I, "Length of that full body text."),
    )),
    NodeType(Label.INFERENCE_CALL, "inference_calls", "inference_call_id",
             "One upstream model request and its response.", (
        _a("thread_id", _S, "Thread that made the request."),
        _a("codex_turn_id", _S, "Turn that made the request."),
        _a("model", _S, "Upstream model actually used."),
        _a("provider_name", _S, "Model provider."),
        _a("response_id", _S, "Responses API `response.id` (upstream dialect)."),
        _a("upstream_request_id", _S, "Transport/upstream request id, when known."),
        _a("input_tokens", _I, "`usage.input_tokens`; absent without usage."),
        _a("cached_input_tokens", _I, "`usage.cached_input_tokens`."),
        _a("output_tokens", _I, "`usage.output_tokens`."),
        _a("reasoning_output_tokens", _I, "`usage.reasoning_output_tokens`."),
        _a("raw_request_payload_id", _S, "Raw request payload."),
        _a("raw_response_payload_id", _S, "Raw response payload; absent while running or after early failure."),
        _a("request_items", _I, "Length of the request's input (`request_item_ids`), in both forms."),
        *EXECUTION,
    )),
    NodeType(Label.TOOL_CALL, "tool_calls", "tool_call_id",
             "One runtime tool invocation, requested by the model or by a code cell.", (
        _a("thread_id", _S, "Thread the tool ran for."),
        _a("started_by_codex_turn_id", _S, "Turn that started the tool (it may outlive it)."),
        _a("model_visible_call_id", _S, "Model-visible `call_id`, for tools the model called directly."),
        _a("code_mode_runtime_tool_id", _S, "Code-mode runtime's tool id, for tools called from JavaScript."),
        _a("mcp_call_id", _S, "MCP backend correlation id (upstream dialect)."),
        _a("requester", _S, "`model` or `code_cell`."),
        _a("requester_code_cell_id", _S, "Requesting code cell (requester `code_cell`)."),
        _a("kind", _S, "exec_command, write_stdin, apply_patch, mcp, web, image_generation, "
                      "spawn_agent, assign_agent_task, send_message, wait_agent, close_agent or other."),
        _a("tool_name", _S, "Display name: the kind, `server/tool` for mcp, the name for other."),
        _a("mcp_server", _S, "MCP server (kind mcp)."),
        _a("mcp_tool", _S, "MCP tool (kind mcp)."),
        _a("terminal_operation_id", _S, "Terminal operation the tool started, if any."),
        _a("summary", _S, "Summary type: terminal, agent, wait_agent or generic."),
        _a("summary_label", _S, "Generic summary label."),
        _a("input_preview", _S, "Generic summary input preview."),
        _a("output_preview", _S, "Generic summary output preview."),
        _a("target_agent_path", _S, "Agent or wait summary: target agent path."),
        _a("task_name", _S, "Agent summary: task name."),
        _a("message_preview", _S, "Agent summary: message preview."),
        _a("timeout_ms", _I, "Wait summary: timeout."),
        _a("raw_invocation_payload_id", _S, "Raw invocation payload."),
        _a("raw_result_payload_id", _S, "Raw result payload."),
        *EXECUTION,
    )),
    NodeType(Label.CODE_CELL, "code_cells", "code_cell_id",
             "One model-authored code-mode `exec` JavaScript cell.", (
        _a("thread_id", _S, "Thread of the cell."),
        _a("codex_turn_id", _S, "Turn that started the cell."),
        _a("model_visible_call_id", _S, "`call_id` of the model's `exec` custom tool call."),
        _a("runtime_cell_id", _S, "Code-mode runtime's cell id."),
        _a("runtime_status", _S, "starting, running, yielded, completed, failed or terminated."),
        _a("initial_response_at_unix_ms", _I, "When the initial `exec` call returned."),
        _a("initial_response_seq", _I, "Seq of that initial response."),
        _a("yielded_at_unix_ms", _I, "When the cell yielded to the background."),
        _a("yielded_seq", _I, "Seq of the yield."),
        _a("source_js", _S, "The JavaScript source."),
        *EXECUTION,
    )),
    NodeType(Label.TERMINAL_SESSION, "terminal_sessions", "terminal_id",
             "A terminal process/session returned by the runtime; operations can reuse it.", (
        _a("thread_id", _S, "Thread of the session."),
        _a("created_by_operation_id", _S, "Operation that created the session."),
        *EXECUTION,
    )),
    NodeType(Label.TERMINAL_OPERATION, "terminal_operations", "operation_id",
             "One command, write or poll against a terminal session.", (
        _a("terminal_id", _S, "Terminal session; absent while the creating operation starts."),
        _a("tool_call_id", _S, "Tool call that performed the operation."),
        _a("kind", _S, "exec_command or write_stdin."),
        _a("command", _L, "exec_command: argv."),
        _a("display_command", _S, "exec_command: the command as displayed."),
        _a("cwd", _S, "exec_command: working directory."),
        _a("stdin", _S, "write_stdin: bytes written; the empty string is a poll."),
        _a("yield_time_ms", _I, "Requested yield time."),
        _a("max_output_tokens", _I, "Requested output token limit."),
        _a("has_result", _B, "Whether the runtime reported a result."),
        _a("exit_code", _I, "Process exit code, when it exited."),
        _a("stdout_preview", _S, f"stdout cut at {PREVIEW_CHARS} characters; absent when empty."),
        _a("stdout_chars", _I, "Length of stdout."),
        _a("stderr_preview", _S, f"stderr cut at {PREVIEW_CHARS} characters; absent when empty."),
        _a("stderr_chars", _I, "Length of stderr."),
        _a("formatted_output_preview", _S, f"Caller-facing formatted output cut at {PREVIEW_CHARS} characters."),
        _a("original_token_count", _I, "Token count before truncation."),
        _a("chunk_id", _S, "Streaming chunk id."),
        *EXECUTION,
    )),
    NodeType(Label.COMPACTION, "compactions", "compaction_id",
             "An installed checkpoint where replacement history became the live history.", (
        _a("thread_id", _S, "Compacted thread."),
        _a("codex_turn_id", _S, "Turn that installed the checkpoint."),
        _a("installed_at_unix_ms", _I, "When the checkpoint was installed."),
        _a("marker_item_id", _S, "Compaction marker item."),
    )),
    NodeType(Label.COMPACTION_REQUEST, "compaction_requests", "compaction_request_id",
             "One upstream request made while computing a compaction.", (
        _a("compaction_id", _S, "Compaction the request contributed to."),
        _a("thread_id", _S, "Thread being compacted."),
        _a("codex_turn_id", _S, "Turn that made the request."),
        _a("model", _S, "Upstream model."),
        _a("provider_name", _S, "Model provider."),
        _a("raw_request_payload_id", _S, "Raw request payload."),
        _a("raw_response_payload_id", _S, "Raw response payload; absent while running or after failure."),
        *EXECUTION,
    )),
    NodeType(Label.RAW_PAYLOAD, "raw_payloads", "raw_payload_id",
             "A raw evidence file in the bundle's `payloads/` directory.", (
        _a("kind", _S, "Payload kind, e.g. inference_request, tool_result, terminal_runtime_event."),
        _a("path", _S, "Path relative to the bundle root."),
    )),
)


# --- edge types --------------------------------------------------------------

_RUNTIME_IN_THREAD = (Label.INFERENCE_CALL, Label.TOOL_CALL, Label.CODE_CELL,
                      Label.TERMINAL_SESSION, Label.COMPACTION, Label.COMPACTION_REQUEST)
_RUNTIME_IN_TURN = (Label.CONVERSATION_ITEM, Label.INFERENCE_CALL, Label.TOOL_CALL,
                    Label.CODE_CELL, Label.COMPACTION, Label.COMPACTION_REQUEST)
_ANCHORS = (Label.TOOL_CALL, Label.CONVERSATION_ITEM, Label.THREAD)
_ITEM = Label.CONVERSATION_ITEM
#: Where the reducer points task, message and result deliveries: the delivered item,
#: or the target thread when no item shows the delivery.
_DELIVERY = (_ITEM, Label.THREAD)

_INTERACTION_ATTRIBUTES: tuple[Attr, ...] = (
    _a("edge_id", _S, "The interaction edge's id in the reduced model."),
    _a("kind", _S, "Its `kind` in the reduced model."),
    _a("source_anchor", _S, "Source anchor type: tool_call, conversation_item or thread."),
    _a("target_anchor", _S, "Target anchor type."),
    _a("started_at_unix_ms", _I, "When the interaction started."),
    _a("ended_at_unix_ms", _I, "When it ended, if known."),
    _a("carried_item_ids", _L, "Conversation items the interaction carried."),
    _a("carried_raw_payload_ids", _L, "Raw payloads the interaction carried (also EVIDENCED_BY edges)."),
)


def _interaction(name: Rel, kind: str, sources: tuple[Label, ...], targets: tuple[Label, ...],
                 description: str) -> EdgeType:
    return EdgeType(
        name, _pairs(sources, targets), Provenance.MODEL,
        f"Multi-agent interaction edge of kind `{kind}`: {description} Source and target are "
        "the edge's anchors, with the anchor types the reducer writes for this kind.",
        ("RolloutTrace.interaction_edges",), attributes=_INTERACTION_ATTRIBUTES,
        distinct_by=("edge_id",), model_kind=kind,
    )


EDGES: tuple[EdgeType, ...] = (
    EdgeType(Rel.HAS_THREAD, ((Label.ROLLOUT, Label.THREAD),), Provenance.MODEL,
             "The rollout contains the thread (the root thread and every spawned one).",
             ("RolloutTrace.threads", "RolloutTrace.root_thread_id")),
    EdgeType(Rel.HAS_CHILD, ((Label.THREAD, Label.THREAD),), Provenance.MODEL,
             "Parent thread spawned the child thread.",
             ("AgentThread.origin.parent_thread_id",), attributes=(
                 _a("spawn_edge_id", _S, "Interaction edge that carried the spawn task."),
                 _a("task_name", _S, "Task name chosen by the parent."),
                 _a("agent_role", _S, "Role of the child agent."),
             )),
    EdgeType(Rel.HAS_TURN, ((Label.THREAD, Label.TURN),), Provenance.MODEL,
             "The thread ran the Codex turn.", ("CodexTurn.thread_id",)),
    EdgeType(Rel.HAS_ITEM, ((Label.THREAD, _ITEM),), Provenance.MODEL,
             "The item belongs to the thread's transcript; `position` is its place in "
             "transcript order.",
             ("AgentThread.conversation_item_ids", "ConversationItem.thread_id"),
             attributes=(POSITION,)),
    EdgeType(Rel.NEXT_ITEM, ((_ITEM, _ITEM),), Provenance.MODEL,
             "Transcript order: the target follows the source in the thread's "
             "`conversation_item_ids`; `position` is the source's index.",
             ("AgentThread.conversation_item_ids",),
             attributes=(POSITION, _a("thread_id", _S, "Thread whose transcript this is.")),
             distinct_by=("position",)),
    EdgeType(Rel.CONTAINS,
             (*_pairs((Label.THREAD,), _RUNTIME_IN_THREAD), *_pairs((Label.TURN,), _RUNTIME_IN_TURN)),
             Provenance.MODEL,
             "Membership of runtime objects: a thread contains its inference calls, tool calls, "
             "code cells, terminal sessions and compactions; a turn contains what it started "
             "(including the conversation items it introduced).",
             ("*.thread_id", "*.codex_turn_id", "ToolCall.started_by_codex_turn_id")),
    EdgeType(Rel.TRIGGERED, ((_ITEM, Label.TURN),), Provenance.MODEL,
             "The conversation item directly triggered the turn.",
             ("CodexTurn.input_item_ids",), attributes=(POSITION,)),
    EdgeType(Rel.PROMPTED, ((_ITEM, Label.INFERENCE_CALL),), Provenance.MODEL,
             "The item is in the inference request's input at `position` (its index in "
             "`request_item_ids`). In the `delta` form only the items a request adds to the "
             "request it EXTENDS get this edge (the rest of its input is that request's); in "
             "the `full_snapshot` form every item of the input does.",
             ("InferenceCall.request_item_ids",), attributes=(POSITION,),
             distinct_by=("position",)),
    EdgeType(Rel.EXTENDS, ((Label.INFERENCE_CALL, Label.INFERENCE_CALL),), Provenance.DERIVED,
             "`delta` form only: the request's input starts with the whole input of the "
             "previous request of its thread (in `started_seq` order), so positions 0 to "
             "`inherited_items` - 1 of its input are that request's input. A request that "
             "does not extend its predecessor (the first of a thread, the first after a "
             "compaction, a rewritten history) has no EXTENDS edge and a PROMPTED edge for "
             "every item of its input.",
             ("InferenceCall.request_item_ids", "InferenceCall.thread_id",
              "InferenceCall.execution.started_seq"),
             rules=(Rule("input_prefix", "The previous request of the thread has a non-empty "
                                         "input that is a prefix of this request's input."),),
             attributes=(_a("inherited_items", _I, "Length of the extended request's input."),)),
    EdgeType(Rel.RESPONDED_WITH, ((Label.INFERENCE_CALL, _ITEM),), Provenance.MODEL,
             "The inference response output the item.",
             ("InferenceCall.response_item_ids",), attributes=(POSITION,),
             distinct_by=("position",)),
    EdgeType(Rel.STARTED, ((Label.INFERENCE_CALL, Label.TOOL_CALL), (Label.INFERENCE_CALL, Label.CODE_CELL)),
             Provenance.DERIVED,
             "The inference response asked for the tool call or code cell. The reference leaves "
             "`tool_call_ids_started_by_response` empty when the tool started before the response "
             "completed, so the model-visible call item is used as evidence too. The call items "
             "of a tool are its `model_visible_call_item_ids` plus the function/custom tool call "
             "items of its thread whose `call_id` is its `model_visible_call_id`; a code cell's "
             "are its `source_item_id` plus the custom tool call items with its call id.",
             ("InferenceCall.tool_call_ids_started_by_response", "InferenceCall.response_item_ids",
              "ConversationItem.produced_by", "ToolCall.model_visible_call_item_ids",
              "CodeCell.source_item_id", "ConversationItem.call_id"),
             rules=(
                 Rule("started_by_response",
                      "The tool call is in the inference's `tool_call_ids_started_by_response`."),
                 Rule("response_item", "One of its call items is in the inference's `response_item_ids`."),
                 Rule("item_producer", "One of its call items has an `inference` producer naming the inference."),
             )),
    EdgeType(Rel.PRODUCED,
             _unique((Label.INFERENCE_CALL, _ITEM), (Label.TOOL_CALL, _ITEM), (Label.CODE_CELL, _ITEM),
                     (Label.COMPACTION, _ITEM), *_pairs(_ANCHORS, (_ITEM,))),
             Provenance.MODEL,
             "The source is listed in the item's `produced_by`. For an `interaction_edge` "
             "producer the source is that interaction edge's source anchor and `edge_id` names "
             "the edge. `user_input` and `harness` producers have no node; see the item's "
             "`producer_types`.",
             ("ConversationItem.produced_by",), attributes=(
                 _a("producer_type", _S, "inference, tool, code_cell, compaction or interaction_edge."),
                 _a("edge_id", _S, "Interaction edge, for interaction_edge producers."),
             ), distinct_by=("edge_id",)),
    EdgeType(Rel.INVOKED, ((_ITEM, Label.TOOL_CALL), (_ITEM, Label.CODE_CELL)), Provenance.MODEL,
             "The model-visible call item invoked the tool call, or is the code cell's source.",
             ("ToolCall.model_visible_call_item_ids", "CodeCell.source_item_id"),
             attributes=(POSITION,)),
    EdgeType(Rel.RESULTED_IN, ((Label.TOOL_CALL, _ITEM), (Label.CODE_CELL, _ITEM)), Provenance.MODEL,
             "The tool call's or code cell's result reached the model as this output item.",
             ("ToolCall.model_visible_output_item_ids", "CodeCell.output_item_ids"),
             attributes=(POSITION,)),
    EdgeType(Rel.ANSWERED_BY, ((_ITEM, _ITEM),), Provenance.DERIVED,
             "A function/custom tool call item is answered by the output item with the same "
             "`call_id` in the same thread.",
             ("ConversationItem.call_id", "ConversationItem.kind", "ConversationItem.thread_id"),
             rules=(Rule("call_id", "Same thread and `call_id`; call kind to its output kind."),)),
    EdgeType(Rel.REQUESTED, ((Label.CODE_CELL, Label.TOOL_CALL),), Provenance.MODEL,
             "The code cell's JavaScript requested the nested tool call.",
             ("CodeCell.nested_tool_call_ids", "ToolCall.requester"), attributes=(POSITION,)),
    EdgeType(Rel.AWAITED_BY, ((Label.CODE_CELL, Label.TOOL_CALL),), Provenance.MODEL,
             "The tool call (code-mode `wait`) waited on the yielded code cell.",
             ("CodeCell.wait_tool_call_ids",), attributes=(POSITION,)),
    EdgeType(Rel.EXECUTED, ((Label.TOOL_CALL, Label.TERMINAL_OPERATION),), Provenance.MODEL,
             "The tool call performed the terminal operation.",
             ("ToolCall.terminal_operation_id", "ToolCall.summary.operation_id",
              "TerminalOperation.tool_call_id")),
    EdgeType(Rel.USED_TERMINAL, ((Label.TERMINAL_OPERATION, Label.TERMINAL_SESSION),), Provenance.MODEL,
             "The operation ran against the terminal session; `position` is its place in the "
             "session's `operation_ids`.",
             ("TerminalOperation.terminal_id", "TerminalSession.operation_ids"), attributes=(POSITION,)),
    EdgeType(Rel.CREATED_TERMINAL, ((Label.TERMINAL_OPERATION, Label.TERMINAL_SESSION),), Provenance.MODEL,
             "The operation created the terminal session (later operations reuse it).",
             ("TerminalSession.created_by_operation_id",)),
    EdgeType(Rel.OBSERVED_BY, ((Label.TERMINAL_OPERATION, _ITEM),), Provenance.MODEL,
             "A model-visible call or output item observed the terminal operation.",
             ("TerminalOperation.model_observations",), attributes=(
                 _a("observation", _I, "Index of the observation in `model_observations`."),
                 _a("role", _S, "`call` (from `call_item_ids`) or `output` (from `output_item_ids`)."),
                 _a("source", _S, "direct_tool_call or code_cell_output."),
                 POSITION,
             ), distinct_by=("observation", "role")),
    EdgeType(Rel.INSTALLED_MARKER, ((Label.COMPACTION, _ITEM),), Provenance.MODEL,
             "The compaction inserted this marker where pre-compaction history ended.",
             ("Compaction.marker_item_id",)),
    EdgeType(Rel.COMPACTED_INTO, ((_ITEM, Label.COMPACTION),), Provenance.MODEL,
             "The item was live history just before the compaction replaced it.",
             ("Compaction.input_item_ids",), attributes=(POSITION,), distinct_by=("position",)),
    EdgeType(Rel.REPLACED_WITH, ((Label.COMPACTION, _ITEM),), Provenance.MODEL,
             "The compaction installed the item as replacement history.",
             ("Compaction.replacement_item_ids",), attributes=(POSITION,), distinct_by=("position",)),
    EdgeType(Rel.MADE_REQUEST, ((Label.COMPACTION, Label.COMPACTION_REQUEST),), Provenance.MODEL,
             "The upstream request was an attempt to compute the compaction.",
             ("Compaction.request_ids", "CompactionRequest.compaction_id"), attributes=(POSITION,)),
    _interaction(Rel.SPAWNED_AGENT, "spawn_agent", (Label.TOOL_CALL,), _DELIVERY,
                 "a `spawn_agent` tool call delivered its task into a new child thread (the "
                 "task item, or the child thread when the child never showed the task)."),
    _interaction(Rel.ASSIGNED_TASK, "assign_agent_task", (Label.TOOL_CALL,), _DELIVERY,
                 "a tool call delivered a follow-up task to an existing agent."),
    _interaction(Rel.SENT_MESSAGE, "send_message", (Label.TOOL_CALL,), _DELIVERY,
                 "a tool call delivered a message to an agent."),
    _interaction(Rel.DELIVERED_RESULT, "agent_result", (_ITEM, Label.THREAD), _DELIVERY,
                 "a child's result (its last assistant message, or the child thread when it "
                 "has none) reached the parent as a notification item."),
    _interaction(Rel.CLOSED_AGENT, "close_agent", (Label.TOOL_CALL,), (Label.THREAD,),
                 "a `close_agent` tool call closed the target thread."),
    EdgeType(Rel.EVIDENCED_BY,
             _pairs((Label.INFERENCE_CALL, Label.COMPACTION_REQUEST, Label.TOOL_CALL,
                     Label.TERMINAL_OPERATION, *_ANCHORS), (Label.RAW_PAYLOAD,)),
             Provenance.MODEL,
             "The raw payload is evidence for the source object, in the given `role`. "
             "Payloads carried by an interaction edge hang off that edge's source anchor.",
             ("InferenceCall.raw_request_payload_id", "InferenceCall.raw_response_payload_id",
              "CompactionRequest.raw_request_payload_id", "CompactionRequest.raw_response_payload_id",
              "ToolCall.raw_invocation_payload_id", "ToolCall.raw_result_payload_id",
              "ToolCall.raw_runtime_payload_ids", "TerminalOperation.raw_payload_ids",
              "ConversationItem.body.parts[].raw_payload_id", "InteractionEdge.carried_raw_payload_ids"),
             attributes=(
                 _a("role", _S, "request, response, invocation, result, runtime (tool and terminal "
                               "runtime events), body (json/payload_ref body part) or carried."),
                 POSITION,
                 _a("part_label", _S, "Body part label (payload_ref) or `json`."),
                 _a("edge_id", _S, "Interaction edge, for role carried."),
             ), distinct_by=("role", "position", "edge_id")),
    EdgeType(Rel.HAS_RAW_PAYLOAD, ((Label.ROLLOUT, Label.RAW_PAYLOAD),), Provenance.MODEL,
             "The payload file belongs to the rollout's bundle (also payloads nothing else "
             "references, such as session metadata and protocol events).",
             ("RolloutTrace.raw_payloads",)),
)

SCHEMA = Schema(
    nodes=NODES,
    edges=EDGES,
    node_attributes=NODE_ATTRIBUTES,
    edge_attributes=EDGE_ATTRIBUTES,
    derived_edge_attributes=DERIVED_EDGE_ATTRIBUTES,
)

_NODES_BY_LABEL: dict[Label, NodeType] = {node.label: node for node in NODES}
_EDGES_BY_NAME: dict[Rel, EdgeType] = {edge.name: edge for edge in EDGES}

#: Interaction edge type for each ``InteractionEdgeKind`` value.
INTERACTION_RELS: dict[str, Rel] = {
    edge.model_kind: edge.name for edge in EDGES if edge.model_kind is not None
}

# --- sources: which inputs can produce each label and edge type ------------


class Source(StrEnum):
    """Kinds of input a graph is built from (the Rollout node's ``source``)."""

    TRACE_BUNDLE = "trace-bundle"
    SESSION_ROLLOUT = "session-rollout"


#: Labels a session rollout file cannot give (no request snapshots, payloads,
#: compaction requests). Every other label comes from both sources.
BUNDLE_ONLY_LABELS: frozenset[Label] = frozenset({Label.COMPACTION_REQUEST, Label.RAW_PAYLOAD})

#: How session-rollout graphs derive each edge type they can have. On those
#: graphs every edge is ``provenance: derived`` and names its rules in
#: ``derived_by``; edge types without rules here come only from trace bundles.
SESSION_RULES: dict[Rel, tuple[Rule, ...]] = {
    Rel.HAS_THREAD: (Rule("session_file", "Each grouped session file is one thread of the rollout."),),
    Rel.HAS_CHILD: (
        Rule("parent_thread_id", "The child's `session_meta` names the parent "
             "(`parent_thread_id` or `source.subagent.thread_spawn`)."),
        Rule("spawn_output", "The parent's `spawn_agent` call output, spawn end event or "
             "CollabAgentToolCall item names the child thread."),
    ),
    Rel.HAS_TURN: (Rule("turn_id", "Turn events (`task_started`/`task_complete`/`turn_aborted`) "
                        "of the thread's file."),
                   Rule("user_message_split", "Files without turn events (2025): a turn starts "
                        "at each user message.")),
    Rel.HAS_ITEM: (Rule("file_order", "The thread's own `response_item` lines in file order "
                        "(copied parent history left out)."),),
    Rel.NEXT_ITEM: (Rule("file_order", "Consecutive own `response_item` lines."),),
    Rel.CONTAINS: (Rule("thread_file", "The object comes from the thread's file."),
                   Rule("turn_id", "The line's `turn_id` (item metadata, record or event), or "
                        "the turn open at that line.")),
    Rel.TRIGGERED: (Rule("turn_start_user_message", "User message items at the start of the turn."),),
    Rel.RESPONDED_WITH: (Rule("usage_boundary", "Model output items written since the "
                              "thread's previous usage line (`token_usage_record` or advancing "
                              "`token_count`)."),),
    Rel.STARTED: (Rule("response_item", "The tool's call item is in the inference's response."),),
    Rel.INVOKED: (Rule("call_item", "The call item (`function_call`, `custom_tool_call`, "
                       "`local_shell_call`, ...) with the tool's `call_id`."),),
    Rel.RESULTED_IN: (Rule("call_id", "The output item with the tool's `call_id`."),),
    Rel.ANSWERED_BY: (Rule("call_id", "Same thread and `call_id`; call kind to its output kind."),),
    Rel.EXECUTED: (Rule("exec_tool", "An `exec_command`, `shell` or `write_stdin` tool call is "
                        "one terminal operation."),),
    Rel.USED_TERMINAL: (Rule("session_id", "`write_stdin` `session_id`, the output's `Process "
                             "running with session ID N`, or the `process_id` of the end "
                             "evidence."),),
    Rel.CREATED_TERMINAL: (Rule("session_id", "The first operation whose result names the "
                                "terminal session."),),
    Rel.OBSERVED_BY: (Rule("call_id", "The tool's call and output items."),),
    Rel.INSTALLED_MARKER: (Rule("compacted_line", "The `compacted` line is the marker item."),),
    Rel.COMPACTED_INTO: (Rule("live_history", "Own items since the previous compaction."),),
    Rel.REPLACED_WITH: (Rule("replacement_history", "The `compacted` line's `replacement_history`."),),
    Rel.SPAWNED_AGENT: (Rule("spawn_output", "A `spawn_agent` call whose output or end evidence "
                             "names the child thread, to the child's first own user message "
                             "(or the child thread)."),),
    Rel.SENT_MESSAGE: (Rule("target_argument", "A `send_input`/`send_message` call whose "
                            "target names a loaded thread."),),
    Rel.ASSIGNED_TASK: (Rule("target_argument", "A follow-up task call whose target names a "
                             "loaded thread."),),
    Rel.DELIVERED_RESULT: (Rule("inter_agent_communication", "An `inter_agent_communication` "
                                "line in the parent authored by the child's agent path."),),
    Rel.CLOSED_AGENT: (Rule("target_argument", "A `close_agent` call whose target names a "
                            "loaded thread."),),
}

#: Why session-rollout graphs lack a label or edge type: what the files do not record.
SESSION_GAPS: dict[Label | Rel, str] = {
    Label.COMPACTION_REQUEST: "compaction requests",
    Label.RAW_PAYLOAD: "raw payloads",
    Rel.PROMPTED: "request snapshots",
    Rel.EXTENDS: "request snapshots",
    Rel.PRODUCED: "producer evidence beyond the response (see RESPONDED_WITH)",
    Rel.REQUESTED: "nested code-mode tool calls",
    Rel.AWAITED_BY: "nested code-mode tool calls",
    Rel.MADE_REQUEST: "compaction requests",
    Rel.EVIDENCED_BY: "raw payloads",
    Rel.HAS_RAW_PAYLOAD: "raw payloads",
}

#: Attributes only session-rollout graphs carry, by label.
SESSION_ATTRIBUTES: dict[Label, tuple[Attr, ...]] = {
    Label.ROLLOUT: (
        _a("source", _S, "`session-rollout` (absent on trace-bundle graphs)."),
        _a("era", _S, "Session format era of the root file: envelope-2025, legacy-2026 or "
           "paginated-2026."),
        _a("session_files", _L, "The rollout's files."),
        _a("skipped", _S, "JSON object: unknown line, item and event types skipped, with counts."),
        _a("torn_files", _L, "Files whose last line was cut off (still being written)."),
        _a("duplicate_files", _L, "Further files of a thread already read (resumed or Desktop "
           "copies); the file with more own lines is used."),
    ),
    Label.THREAD: (
        _a("session_file", _S, "The thread's file."),
        _a("era", _S, "Format era of the file."),
        _a("forked_from_id", _S, "Thread this one was forked from (an attribute, not a child edge)."),
        _a("copied_history_lines", _I, "Lines copied from the parent's history, left out."),
        _a("cwd", _S, "`session_meta.cwd`."),
        _a("originator", _S, "`session_meta.originator`, e.g. codex-tui."),
        _a("cli_version", _S, "`session_meta.cli_version`."),
        _a("dropped_token_counts", _I, "Re-emitted `token_count` lines (unchanged totals) dropped."),
    ),
    Label.TURN: (
        _a("error", _S, "`task_complete.error.message`, for failed turns."),
        _a("turn_evidence", _S, "turn_events, or user_message_split (2025 files)."),
    ),
    Label.CONVERSATION_ITEM: (
        _a("item_type", _S, "The `response_item` payload type as written."),
        _a("line", _I, "Line of the session file."),
    ),
    Label.INFERENCE_CALL: (
        _a("usage_source", _S, "token_usage_record, or token_count (advancing totals)."),
        _a("total_tokens", _I, "`usage.total_tokens`."),
    ),
    Label.TOOL_CALL: (
        _a("namespace", _S, "`function_call.namespace`, when written."),
    ),
    Label.TERMINAL_OPERATION: (
        _a("duration_source", _S, "Evidence for exit code and duration: command_execution, "
           "exec_command_end, output_text or output_metadata."),
    ),
}


def sources_of(element: Label | Rel) -> tuple[Source, ...]:
    """Which kinds of input can produce a label or an edge type."""
    if isinstance(element, Label):
        session = element not in BUNDLE_ONLY_LABELS
    else:
        session = element in SESSION_RULES
    return (Source.TRACE_BUNDLE, Source.SESSION_ROLLOUT) if session else (Source.TRACE_BUNDLE,)


#: Execution statuses that count as failures in summaries.
FAILED_STATUSES: frozenset[str] = frozenset({"failed", "cancelled", "aborted"})
#: Code-cell runtime statuses that count as failures.
FAILED_RUNTIME_STATUSES: frozenset[str] = frozenset({"failed", "terminated"})
