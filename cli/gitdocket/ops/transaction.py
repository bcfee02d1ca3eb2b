"""One write, as the lifecycles see it: load scopes from a snapshot, decide, sign, authorize,
append, re-render — and collect the result as a ``store.Plan``.

Every command that writes goes through ``Transaction.apply``; nothing else appends to a log. A
refusal (an invariant, a missing role) raises before anything reaches the store, so a rejected
command writes nothing. Signing is the only side effect, through the ``Signer`` passed in.

Time (ADR 0014): ``at`` dates the events (``GITDOCKET_NOW`` or the system clock); ``clock`` is
the system clock, which judges. Before it signs, ``apply`` asks the rules ``verify`` asks
(``lifecycles.timeline.time_problem``, the policy's expiry at both clocks), with less tolerance,
so a write never produces a registry that verify rejects.

Keyless (ADR 0022): ``cosigners`` add Sigstore signatures (a CI workflow's identity) to every
event beside the SSH keys' (the git layer's key, which may hold no role); ``sigstore`` checks
them offline against the pinned trusted root, as ``verify`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from gitdocket.core import sshsig
from gitdocket.core.canonical import canonical, loads_strict
from gitdocket.core.fields import NAME_RE, format_time
from gitdocket.core.log import (
    EVENT_NAMESPACE,
    Event,
    SignatureEntry,
    SigstoreSignature,
    SshSignature,
    event_line,
    head_digest,
    newest_time,
    render_current,
    signing_payload,
)
from gitdocket.core.model import Record
from gitdocket.core.scopes import Scope
from gitdocket.core.secrets import secrets_in_record
from gitdocket.core.sshsig import Signer
from gitdocket.core.tree import Plan, TagSpec, TreeRef, TreeView
from gitdocket.errors import DocketError, InvariantError, StateError, TrustError
from gitdocket.lifecycles import machine_of, scope
from gitdocket.lifecycles.authz import (
    SigstoreCheck,
    Verdict,
    judging_policy,
    no_sigstore,
    policy_resolver,
    required_role,
    valid_signers,
    verdicts,
)
from gitdocket.lifecycles.config import allow_hint
from gitdocket.lifecycles.invariants import NO_SECRETS_RECORDED, POLICY_IN_FORCE
from gitdocket.lifecycles.machine import Machine
from gitdocket.lifecycles.policy import POLICY_SCOPE, PolicyState, Role, accepts, holder_of, policy_versions
from gitdocket.lifecycles.timeline import CLOCK_SKEW, Moment, expired_now, time_problem
from gitdocket.ops.logs import ScopeLog, load_log, load_tail, replay_log
from gitdocket.ops.plans import Check, PlannedEvent, signoff
from gitdocket.verify.context import RefView
from gitdocket.verify.tags import RECORDING_EVENT, recording_commits, tag_message, tag_name

__all__ = ["Cosigner", "ScopeLog", "Transaction", "load_log", "load_tail", "replay_log"]

S = TypeVar("S", bound=Record)


class Cosigner(Protocol):
    """A keyless signer (``adapters.keyless.KeylessSigner``): the policy's name for its
    identity, and a Sigstore bundle over a payload."""

    @property
    def principal(self) -> str: ...

    def sign(self, payload: bytes) -> dict[str, Any]: ...


Newest = Callable[[TreeView], str | None]
"""The newest event time of a snapshot (``core.log.newest_time``; the store caches it)."""


class Transaction:
    """Pending appends against one snapshot. ``signers[0]`` is the actor. ``at`` dates the
    events; ``clock`` (the system clock; ``at`` when not given) judges them; ``newest`` finds the
    newest event time of the snapshot."""

    def __init__(
        self,
        tree: TreeView,
        signers: list[Signer],
        at: datetime,
        bootstrap_principal: str | None = None,
        refs: RefView | None = None,
        stage: Callable[[TreeView, Mapping[str, bytes | TreeRef]], TreeView] | None = None,
        *,
        clock: datetime | None = None,
        newest: Newest = newest_time,
        cosigners: Sequence[Cosigner] = (),
        sigstore: SigstoreCheck = no_sigstore,
    ) -> None:
        if not signers:
            raise TrustError("no signing key", "pass --key, set GITDOCKET_SIGNING_KEY, or set git's user.signingkey")
        self.tree = tree
        self.signers = signers
        self.cosigners = sorted(cosigners, key=lambda c: c.principal)
        self.sigstore = sigstore
        self.at = at
        self.refs = refs
        """The repository's tags and earlier commits, for a re-run that completes a write whose
        tag is missing; None when this write creates no tags (a branch other than the registry's
        default one) or there is no history (a unit test's snapshot)."""
        self._stage = stage
        self.clock = clock if clock is not None else at
        self._newest_of = newest
        self._newest: list[str | None] = []
        self.writes: dict[str, bytes | TreeRef] = {}
        self.tags: list[TagSpec] = []
        self.notes: list[str] = []
        self.planned: list[PlannedEvent] = []
        """Every event ``apply`` signed, with who must sign it: what a dry run shows."""
        self.checks: list[Check] = []
        self._logs: dict[Scope[Any], ScopeLog[Any]] = {}
        self._tails_checked: set[Scope[Any]] = set()
        self._bootstrap = bootstrap_principal
        self._policies: list[PolicyState] | None = None
        self.policy = self.log(POLICY_SCOPE).state
        if self.policy.phase == "none" and bootstrap_principal is None:
            raise StateError("this repository has no gitdocket policy", "run `gitdocket init` first")
        self._check_tail(self.log(POLICY_SCOPE))  # every write trusts the policy: its tail must hold

    # -- reading -------------------------------------------------------------------------------

    def log(self, target: Scope[S]) -> ScopeLog[S]:
        """``target``'s log as this write leaves it so far. Read from its end (``load_tail``):
        the state from ``current.json`` once it stands at the log's last line, so that a write
        costs the same whatever the log holds (ADR 0033). The policy is replayed in full: every
        write trusts it, and its log grows with policy changes, not with writes."""
        if target not in self._logs:
            tail = None if target == POLICY_SCOPE else load_tail(self.tree, target)
            self._logs[target] = tail if tail is not None else load_log(self.tree, target)
        found: ScopeLog[S] = self._logs[target]
        return found

    def replayed(self, target: Scope[S]) -> ScopeLog[S]:
        """``target``'s log folded from its first event (with this write's pending events): for
        the rules that read what ``current.json`` does not carry (a row's ``needs_history``)."""
        current = self.log(target)
        if not current.replayed:
            current = replay_log(target, current.open, current.sealed())
            self._logs[target] = current
        return current

    def state(self, target: Scope[S]) -> S:
        return self.log(target).state

    def staged(self) -> TreeView:
        """The snapshot with this transaction's pending writes applied, for an operation that
        checks what an earlier part of the same write placed (a promotion of the bundle it has
        just imported). Without a ``stage`` (a snapshot that is not a repository): the snapshot."""
        if self._stage is None or not self.writes:
            return self.tree
        return self._stage(self.tree, self.writes)

    def read(self, path: str) -> bytes | None:
        pending = self.writes.get(path)
        if isinstance(pending, bytes):
            return pending
        return self.tree.read(path)

    def principal_of(self, signer: Signer) -> str:
        holder = holder_of(self.policy, sshsig.public_key_line(signer.public_key))
        if holder is not None:
            return holder
        if self._bootstrap is not None and self.policy.phase == "none":
            return self._bootstrap
        raise TrustError(
            f"signing key {sshsig.fingerprint(signer.public_key)} is not in the policy",
            "ask a root holder to run `gitdocket policy add-identity` for it",
        )

    def ordered(self) -> list[Signer]:
        """The signers by principal name: what gitdocket writes does not depend on the order in
        which the keys were given."""
        return sorted(self.signers, key=self.principal_of)

    def _principals(self) -> list[str]:
        """Every signer's principal, the keyless ones first (a CI write's actor is its
        workflow; its SSH key is the git layer's, ADR 0022), each kind by name."""
        return [*self._keyless_principals(), *(self.principal_of(s) for s in self.ordered())]

    @property
    def actor(self) -> str:
        """Who writes, before the command is known: the first keyless signer, else the first
        signer by principal name."""
        return self._principals()[0]

    def actor_in(self, target: Scope[Any], command: str) -> str:
        """Who ``command`` on ``target`` will name as its actor: what the fields naming who did
        it (``promoted_by``, ``built_by`` …, ``AUDIT_NAMES_SIGNER``) must say. Differs from
        ``actor`` when a keyless and an SSH signer hold different roles."""
        machine = machine_of(target)
        return self._actor_for(required_role(machine, target, machine.row(command).event, {}), None)

    def _actor_for(self, role: str, after: PolicyState | None) -> str:
        """The event's actor: the first signer, by principal name, who holds ``role`` under every
        policy that judges the event (a policy change: the policy before and the one after), so
        a threshold of keys signs whatever their order."""
        judges = [p for p in (self.policy, after) if p is not None and p.phase != "none"]
        principals = self._principals()
        for principal in principals:
            if all(principal in (self._resolver(p)(role) or Role()).principals for p in judges):
                return principal
        return principals[0]

    def _keyless_principals(self) -> list[str]:
        """The cosigners' principals, each a Sigstore identity of the policy."""
        for cosigner in self.cosigners:
            identity = self.policy.identities.get(cosigner.principal)
            if identity is None or identity.kind != "sigstore":
                raise TrustError(
                    f"{cosigner.principal} is not a Sigstore identity of the policy",
                    "ask a root holder to run `gitdocket policy add-identity NAME --github-workflow …`",
                )
        return [c.principal for c in self.cosigners]

    def _signed(self, target: Scope[Any], unsigned: Event) -> Event:
        payload = signing_payload(target.path, unsigned)
        signatures: list[SignatureEntry] = [
            SshSignature(
                kind="sshsig", principal=self.principal_of(s), sig=s.sign(payload, EVENT_NAMESPACE).decode("ascii")
            )
            for s in self.ordered()
        ]
        self._keyless_principals()
        signatures += [
            SigstoreSignature(kind="sigstore", principal=c.principal, bundle=c.sign(payload)) for c in self.cosigners
        ]
        ordered = tuple(sorted(signatures, key=lambda entry: entry.principal))
        return unsigned.model_copy(update={"signatures": ordered})

    def _check_in_force(self, machine: Machine[Any], current: ScopeLog[Any], command: str, after: PolicyState) -> None:
        """A policy change never leaves a policy that the system clock finds expired: verify would
        refuse the registry (REGISTRY_EXPIRED)."""
        if expired_now(after, format_time(self.clock)):
            raise InvariantError(
                f"cannot {machine.row(command).does} {machine.subject(current.state)}: it would be expired "
                f"at {after.expires}, before the system clock's present ({format_time(self.clock)})",
                POLICY_IN_FORCE,
                "pass a later expiry, or `never`",
            )

    def _owners(self, archetype: str) -> Role | None:
        try:
            target = scope("archetype", archetype)
        except DocketError:  # a role naming no legal archetype (a forged tail): nobody holds it
            return None
        state = self.state(target)
        return state.owners_role if state.phase == "active" else None

    # -- writing -------------------------------------------------------------------------------

    def check(self, target: Scope[S], command: str) -> None:
        """Refuse ``command`` now when ``target``'s phase does not allow it: exactly the refusal
        ``apply`` would raise first, for operations that have expensive work to do before."""
        machine_of(target).check(self.state(target), command)

    @contextmanager
    def refusing(self, target: Scope[S], command: str) -> Iterator[None]:
        """Word a refusal raised inside, by a lifecycle rule asked before ``apply``, as
        ``command`` on ``target`` would."""
        with machine_of(target).refusing(self.state(target), command):
            yield

    def apply(self, target: Scope[S], command: str, data: dict[str, Any] | BaseModel) -> S:
        """Decide ``command`` on ``target``, sign and authorize the event, stage the new log."""
        machine = machine_of(target)
        current = self.replayed(target) if machine.row(command).needs_history else self.log(target)
        self._check_tail(current)
        decision = machine.decide(current.state, command, data, format_time(self.at))
        with machine.refusing(current.state, command):
            self._refuse_secrets(target, machine.row(command).data.model_validate(decision.data))
        self._check_expiry(target, decision.type, decision.data)
        self._check_time(machine, current, decision.type, decision.data)
        # Fold the data as readers will parse it back from the log: RFC 8785 writes 1.0 as 1 and
        # -0.0 as 0, so current.json must be rendered from those values, not the originals.
        data_as_read = loads_strict(canonical(decision.data), target.history_path)
        new_state = machine.evolve(current.state, decision.type, data_as_read)
        after = new_state if isinstance(new_state, PolicyState) else None
        if after is not None:
            self._check_in_force(machine, current, command, after)
        unsigned = Event(
            seq=current.seq + 1,
            prev=current.head,
            at=format_time(self.at),
            type=decision.type,
            actor=self._actor_for(required_role(machine, target, decision.type, data_as_read), after),
            data=data_as_read,
            policy_version=self.policy.version,
        )
        event = self._signed(target, unsigned)
        judged = verdicts(machine, target, event, self.policy, after, self._resolver, self.sigstore)
        self.planned.append(self._planned(target, event, judged, after))
        for verdict in judged:
            if not verdict.ok:
                raise TrustError(
                    f"cannot {machine.row(command).does} {machine.subject(current.state)}: {verdict.problems[0]}",
                    f"sign with a key that holds {verdict.role} (--key), or ask a root holder to grant it",
                )
        self._logs[target], files = current.appended(event, new_state)
        self._check_seal(target, files)
        self.writes.update(files)
        self.writes[target.current_path] = render_current(
            target.path, new_state.model_dump(mode="json"), event.seq, head_digest(event_line(event))
        )
        if isinstance(new_state, PolicyState):
            self.policy = new_state
            self._policies = None
        return new_state

    def _check_seal(self, target: Scope[Any], files: dict[str, bytes]) -> None:
        """An append that seals its open segment (ADR 0037) writes a new file in ``history/``:
        refused when something already stands there (a file where the folder goes, a segment
        of that name), which a write must neither overwrite nor turn into a folder."""
        sealed = [path for path in files if path != target.history_path]
        folder = self.tree.kind(target.segments_path)
        taken = [path for path in sealed if path in self.writes or self.tree.kind(path) is not None]
        if sealed and (folder not in (None, "tree") or taken):
            where = taken[0] if taken else target.segments_path
            raise StateError(
                f"{where}: already there, where this write would seal the log (changed outside gitdocket)",
                "run `gitdocket verify`, then restore the scope's files from git history",
            )

    def _planned(
        self, target: Scope[Any], event: Event, judged: list[Verdict], after: PolicyState | None
    ) -> PlannedEvent:
        """``event`` as a dry run shows it: who signs it, and what each judging policy demands
        (``verdicts`` judges by the same policies, in this order)."""
        judges = [self.policy] if target.kind != "policy" else [self.policy, after]
        policies = [p for p in judges if p is not None and p.phase != "none"]
        return PlannedEvent(
            scope=target.path,
            seq=event.seq,
            type=event.type,
            actor=event.actor,
            at=event.at,
            signed_by=tuple(s.principal for s in event.signatures if isinstance(s, SshSignature)),
            signoffs=tuple(
                signoff(v, self._resolver(p)(v.role), p.version) for v, p in zip(judged, policies, strict=True)
            ),
        )

    def checked(self, subject: str, checks: Iterable[tuple[str, bool, str]]) -> None:
        """Record the gate checks an operation ran on ``subject`` (``--dry-run`` shows them)."""
        self.checks.extend(Check(subject, check_id, passed, detail) for check_id, passed, detail in checks)

    def _resolver(self, policy: PolicyState) -> Callable[[str], Role | None]:
        return policy_resolver(policy, self._owners)

    # -- the cheap checks before a log grows ---------------------------------------------------

    def _refuse_secrets(self, target: Scope[Any], data: BaseModel) -> None:
        """No secret in the event's free text (NO_SECRETS_RECORDED): the log is permanent and
        signed. The allow-list is read only when something was found."""
        hits = secrets_in_record(target.path, data, frozenset())
        if hits:
            config = self.state(scope("config")).registry  # the signed allow-list (ADR 0013)
            allowed = config.allowed_secrets() if config is not None else frozenset()
            hits = [hit for hit in hits if hit.path not in allowed]
        if hits:
            raise InvariantError(
                f"{hits[0].path} holds a secret ({hits[0].kind})",
                NO_SECRETS_RECORDED,
                allow_hint(hits[0].path),
            )

    def _check_expiry(self, target: Scope[Any], event_type: str, data: dict[str, Any]) -> None:
        """An expired policy accepts nothing but its own renewal (design §4: the policy has an
        expiry), whether the events' date or the system clock says it expired: verify reports an
        event written after it (POLICY_EXPIRED) and a registry whose policy is expired at its
        clock (REGISTRY_EXPIRED)."""
        for when in (format_time(self.at), format_time(self.clock)):
            if not accepts(self.policy, target, event_type, data, when):
                raise TrustError(
                    f"{POLICY_SCOPE.history_path}: policy v{self.policy.version} expired at "
                    f"{self.policy.expires}; {target.label} cannot change until it is renewed",
                    "a root holder renews it: `gitdocket policy expires TIME` (or `never`)",
                )

    def newest(self) -> str | None:
        """The newest event time of the snapshot (read once)."""
        if not self._newest:
            self._newest.append(self._newest_of(self.tree))
        return self._newest[0]

    def _check_time(self, machine: Machine[Any], current: ScopeLog[Any], event_type: str, data: dict[str, Any]) -> None:
        """The time rules ``verify`` applies (``time_problem``), with only ``CLOCK_SKEW`` of
        tolerance before the snapshot's newest event. An event judged by an archetype's owners
        also follows that archetype's last event: verify judges it by the owners in force at
        its time, which must be the owners this write sees."""
        target = current.scope
        previous = [current.last.at] if current.last is not None else []
        role = required_role(machine, target, event_type, data)
        if role.startswith("owners:") and NAME_RE.fullmatch(role.split(":", 1)[1]):
            owners = self.log(scope("archetype", role.split(":", 1)[1]))
            previous += [owners.last.at] if owners.last is not None and owners.scope != target else []
        policy = self.log(POLICY_SCOPE).events
        moment = Moment(
            previous=max(previous, default=None),
            policy=policy[self.policy.version - 1].at if 0 < self.policy.version <= len(policy) else None,
            newest=self.newest(),
            clock=format_time(self.clock),
        )
        at = format_time(self.at)
        problem = time_problem(at, moment, CLOCK_SKEW)
        if problem is not None:
            row = machine.by_event[event_type]
            raise InvariantError(
                f"cannot {row.does} {machine.subject(current.state)} at {at}: {problem.message}",
                problem.rule,
                "events are dated by the writer's clock: set the system clock right, or unset GITDOCKET_NOW",
            )

    def _policy_at(self, version: int) -> PolicyState | None:
        """The policy at ``version`` (0: before it existed); folds the policy log only for an
        older version than the current one."""
        if version == self.policy.version:
            return self.policy
        if self._policies is None:
            self._policies = policy_versions((e.type, e.data) for e in self.log(POLICY_SCOPE).events)
        return self._policies[version] if 0 <= version < len(self._policies) else None

    def _check_tail(self, current: ScopeLog[Any]) -> None:
        """Refuse to extend a log whose last line does not verify: only the tail, so a write
        costs the same in a registry of any size. The policy's tail is fully authorized (every
        write trusts the policy); any other tail must carry valid signatures by principals of the
        policy it names, its actor among them — who may sign what is ``gitdocket verify``'s job."""
        last = current.last
        if last is None or current.scope in self._tails_checked:
            return
        self._tails_checked.add(current.scope)
        problems = self._tail_problems(current, last)
        if problems:
            raise StateError(
                f"{current.scope.history_path}:{last.seq}: the last event does not verify "
                f"({problems[0]}); refusing to extend the log",
                "run `gitdocket verify`, then restore the log from git history",
            )

    def _tail_problems(self, current: ScopeLog[Any], last: Event) -> list[str]:
        target = current.scope
        named = judging_policy(target, last, self._policy_at)
        if isinstance(named, str):
            return [named]
        if isinstance(current.state, PolicyState):  # signed by the root before (if any) and after
            found = verdicts(machine_of(target), target, last, named, current.state, self._resolver, self.sigstore)
            return [problem for verdict in found for problem in verdict.problems]
        good, problems = valid_signers(target, last, named, self.sigstore)
        if not problems and last.actor not in good:
            problems = [f"actor {last.actor!r} did not sign it"]
        return problems

    def put(self, path: str, value: bytes | TreeRef) -> None:
        self.writes[path] = value

    def tag(self, name: str, message: str, target: str | None = None) -> None:
        """Create the signed tag ``name`` with the write: on its commit, or on ``target``."""
        self.tags.append(TagSpec(name, message, target))

    def untagged_record(self, target: Scope[Any]) -> str | None:
        """The commit that recorded ``target``'s tagged event (a freeze, a publish) when its tag
        is missing: a write cut short between its branch and its tags, or one made before tags
        moved with the branch. None when the tag exists, or there is no history to look in."""
        if self.refs is None or self.tree.commit is None or tag_name(target) in self.refs.tags():
            return None
        events = self.log(target).events
        recorded = [i for i, e in enumerate(events, start=1) if e.type == RECORDING_EVENT[target.kind]]
        if not recorded:
            return None
        return recording_commits(self.refs, self.tree.commit, {target: recorded[0]}).get(target)

    def complete_tag(self, target: Scope[Any], content_hash: str, done: str) -> bool:
        """Create ``target``'s missing tag on the commit that recorded it (``untagged_record``),
        telling the user the write was ``done`` already; False when the tag exists."""
        commit = self.untagged_record(target)
        if commit is None:
            return False
        name, version = target.keys
        tag = tag_name(target)
        self.tag(tag, tag_message(target, content_hash), commit)
        self.note(f"{name} {version} is already {done}; created the missing tag {tag} on commit {commit[:12]}")
        return True

    def note(self, text: str) -> None:
        """Tell the user what the write completed rather than did."""
        self.notes.append(text)

    def plan(self, message: str) -> Plan:
        return Plan(
            message=message, author=self.actor, writes=dict(self.writes), tags=list(self.tags), notes=list(self.notes)
        )
