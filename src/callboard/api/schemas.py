"""Request bodies. Unknown fields are refused, so a typo is a 422 rather than a silent no-op."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from callboard.api.auth import Role


def _json_object(value: Any) -> Any:
    """Attributes may come as an object or, as TaskRouter clients send them, as a JSON string."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON: {exc.msg}") from None
    return value


JsonObject = Annotated[dict[str, Any], BeforeValidator(_json_object)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Seconds = Annotated[float, Field(ge=0)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def changes(self) -> dict[str, Any]:
        """The fields the client sent."""
        return self.model_dump(mode="json", exclude_unset=True)


class WorkspaceCreate(Body):
    friendly_name: Name
    service_level_threshold: Seconds | None = None
    wrapup_seconds: Seconds | None = None


class WorkspaceUpdate(Body):
    friendly_name: Name | None = None
    default_activity_sid: str | None = None
    timeout_activity_sid: str | None = None
    service_level_threshold: Seconds | None = None
    wrapup_seconds: Seconds | None = None


class ActivityCreate(Body):
    friendly_name: Name
    available: bool = False


class ActivityUpdate(Body):
    friendly_name: Name | None = None


class ChannelCreate(Body):
    unique_name: Name
    friendly_name: Name | None = None
    default_capacity: Annotated[int, Field(ge=0)] = 1


class WorkerCreate(Body):
    friendly_name: Name
    attributes: JsonObject = Field(default_factory=dict)
    activity_sid: str | None = None
    capacities: dict[str, Annotated[int, Field(ge=0)]] | None = None


class WorkerUpdate(Body):
    friendly_name: Name | None = None
    attributes: JsonObject | None = None
    activity_sid: str | None = None


class WorkerChannelUpdate(Body):
    capacity: Annotated[int, Field(ge=0)] | None = None
    available: bool | None = None


class QueueCreate(Body):
    friendly_name: Name
    target_workers: str = "1==1"
    strategy: str = "longest_idle"
    strategy_options: dict[str, Any] = Field(default_factory=dict)
    task_order: Literal["fifo", "lifo"] = "fifo"
    max_reserved_workers: Annotated[int, Field(ge=1)] = 1
    reservation_activity_sid: str | None = None
    assignment_activity_sid: str | None = None
    wrapup_seconds: Seconds | None = None
    post_work_activity_sid: str | None = None
    service_level_threshold: Seconds | None = None


class QueueUpdate(Body):
    friendly_name: Name | None = None
    target_workers: str | None = None
    strategy: str | None = None
    strategy_options: dict[str, Any] | None = None
    task_order: Literal["fifo", "lifo"] | None = None
    max_reserved_workers: Annotated[int, Field(ge=1)] | None = None
    reservation_activity_sid: str | None = None
    assignment_activity_sid: str | None = None
    wrapup_seconds: Seconds | None = None
    post_work_activity_sid: str | None = None
    service_level_threshold: Seconds | None = None


class WorkflowCreate(Body):
    friendly_name: Name
    configuration: JsonObject
    task_reservation_timeout: Annotated[float, Field(ge=1, le=86_400)] = 120.0


class WorkflowUpdate(Body):
    friendly_name: Name | None = None
    configuration: JsonObject | None = None
    task_reservation_timeout: Annotated[float, Field(ge=1, le=86_400)] | None = None
    re_evaluate_tasks: bool = False


class TaskCreate(Body):
    workflow_sid: str
    attributes: JsonObject = Field(default_factory=dict)
    task_channel: str | None = None
    priority: int = 0
    timeout: Annotated[float, Field(gt=0)] | None = None


class TaskUpdate(Body):
    attributes: JsonObject | None = None
    priority: int | None = None
    assignment_status: Literal["canceled", "wrapping", "completed"] | None = None
    reason: str | None = None


class TaskTransfer(Body):
    task_queue_sid: str | None = None
    worker_sid: str | None = None


class ReservationReject(Body):
    activity_sid: str | None = None


Notes = Annotated[str, Field(max_length=4000)]


class ReservationComplete(Body):
    reason: str | None = None
    disposition: str | None = Field(default=None, description="One of the workspace's disposition codes")
    notes: Notes | None = None


class TaskDisposition(Body):
    """What the agent says about a finished interaction; stored in the task's attributes."""

    disposition: str | None = Field(default=None, description="One of the workspace's disposition codes")
    notes: Notes | None = None


class WrapupExtension(Body):
    seconds: Annotated[float, Field(gt=0, le=86_400)]


class Login(Body):
    username: str
    password: str


class TokenCreate(Body):
    name: Name


class UserCreate(Body):
    username: Annotated[str, Field(min_length=1, max_length=100)]
    password: Annotated[str, Field(min_length=8, max_length=1000)]
    role: Role
    workspace_sid: str | None = None
    worker_sid: str | None = None


class UserUpdate(Body):
    password: Annotated[str, Field(min_length=8, max_length=1000)] | None = None
    role: Role | None = None
    workspace_sid: str | None = None
    worker_sid: str | None = None
    disabled: bool | None = None
