"""Request bodies and query strings of the CRM API (strict, like the rest of the API)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import (
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)

from trunkline.web.schemas import Body, LongText, Ref, ShortText

Name = Annotated[StrictStr, StringConstraints(max_length=200)]
ContactId = Annotated[
    StrictStr, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@:-]*$", max_length=64)
]
Language = Annotated[StrictStr, StringConstraints(pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$")]
Class = Annotated[StrictStr, StringConstraints(min_length=1, max_length=64)]
IdentityKindName = Literal["phone", "email", "account", "visitor"]
Cursor = Annotated[str, StringConstraints(max_length=512)]
PageLimit = Annotated[int, Field(ge=1, le=500)]
NoteText = Annotated[StrictStr, StringConstraints(min_length=1, max_length=10_000)]
Subject = Annotated[StrictStr, StringConstraints(min_length=1, max_length=200)]
CaseStatusName = Literal["open", "pending", "closed"]
CasePriorityName = Literal["low", "normal", "high", "urgent"]


class IdentityBody(Body):
    kind: IdentityKindName
    value: Annotated[StrictStr, StringConstraints(min_length=1, max_length=254)]


class CreateContactBody(Body):
    id: ContactId | None = Field(default=None, description="Generated when absent")
    name: Name = ""
    organisation: Name = ""
    customer_class: Class = Field(default="standard", alias="class")
    value: StrictFloat | StrictInt | None = None
    language: Language | None = None
    owner: Ref | None = Field(default=None, description="The account owner: an agent id")
    attributes: Annotated[dict[str, Any], Field(max_length=100)] = {}
    identities: Annotated[list[IdentityBody], Field(max_length=50)] = []


class UpdateContactBody(Body):
    """Only the fields given change; ``attributes`` is a patch (a null value removes a key)."""

    version: StrictInt | None = Field(
        default=None, description="Refuse the change (409) unless this is the current version"
    )
    name: Name | None = None
    organisation: Name | None = None
    customer_class: Class | None = Field(default=None, alias="class")
    value: StrictFloat | StrictInt | None = None
    language: Language | None = None
    owner: Ref | None = None
    provisional: StrictBool | None = None
    attributes: Annotated[dict[str, Any], Field(max_length=100)] | None = None
    add_identities: Annotated[list[IdentityBody], Field(max_length=50)] = []
    remove_identities: Annotated[list[IdentityBody], Field(max_length=50)] = []
    # "value": null, "language": null and "owner": null clear those fields; leaving them out
    # keeps them. pydantic cannot tell the two apart on its own: see ``model_fields_set``.


class MergeBody(Body):
    from_: Annotated[list[ContactId], Field(min_length=1, max_length=50)] = Field(alias="from")


class SearchQuery(Body):
    q: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="A name (word prefixes), phone number, e-mail or account"
    )
    phone: ShortText | None = None
    email: ShortText | None = None
    account: ShortText | None = None
    visitor: ShortText | None = None
    customer_class: Class | None = Field(default=None, alias="class")
    provisional: bool | None = None
    limit: PageLimit = 50
    after: Cursor | None = None


class PageQuery(Body):
    limit: PageLimit = 50
    before: Cursor | None = None


class NoteBody(Body):
    text: NoteText
    interaction_id: ShortText | None = None


class CreateCaseBody(Body):
    contact_id: ContactId
    subject: Subject
    description: LongText = ""
    priority: CasePriorityName = "normal"
    owner: Ref | None = None
    interaction_id: ShortText | None = None


class UpdateCaseBody(Body):
    subject: Subject | None = None
    description: LongText | None = None
    status: CaseStatusName | None = None
    priority: CasePriorityName | None = None
    owner: Ref | None = None
    comment: NoteText | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


class CaseListQuery(Body):
    contact_id: ContactId | None = None
    status: (
        Annotated[
            str, StringConstraints(pattern=r"^(open|pending|closed)(,(open|pending|closed))*$")
        ]
        | None
    ) = Field(default=None, description="Comma-separated: open,pending")
    owner: Ref | None = None
    limit: PageLimit = 50
    after: Cursor | None = None


class CommentBody(Body):
    text: NoteText


class LinkBody(Body):
    interaction_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=128)]
