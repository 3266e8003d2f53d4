"""Schema extensions: masking and logging of errors, request limits, and hiding the schema in production."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from functools import lru_cache

from graphql import DocumentNode, GraphQLError, GraphQLSyntaxError, ValidationRule, parse
from graphql.language import FieldNode
from strawberry.extensions import MaskErrors, SchemaExtension, ValidationCache
from strawberry.schema.exceptions import InvalidOperationTypeError

from pgbs.settings import Settings
from schema.limits import LimitExceeded, MeasureCache, variables_depth

logger = logging.getLogger(__name__)

MASKED_MESSAGE = "Internal server error."


def is_unexpected(error: GraphQLError) -> bool:
    """True for an error raised by a bug or an outage, not one the API raises on purpose.

    Errors the API means to show (UNAUTHENTICATED, FORBIDDEN, limits) are
    GraphQLErrors themselves; validation errors carry no original error.
    """
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def explain_operation_type(error: GraphQLError) -> GraphQLError:
    """Replace strawberry's error for an operation the transport cannot run with one a client can act on.

    The legacy graphql-ws WebSocket protocol runs subscriptions only; strawberry
    raises InvalidOperationTypeError for a query or mutation sent over it.
    """
    original = error.original_error
    if not isinstance(original, InvalidOperationTypeError):
        return error
    reason = original.as_http_error_reason("the legacy graphql-ws protocol")
    return GraphQLError(
        f"{reason[0].upper()}{reason[1:]}. Send them over HTTP or the graphql-transport-ws protocol.",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "BAD_REQUEST"},
    )


class MaskUnexpectedErrors(MaskErrors):
    """Replace unexpected errors with a generic one, so no stack trace or SQL reaches a client."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE)

    # NOTE: _process_errors is MaskErrors' private hook (strawberry 0.341); the tests
    # of request error logging fail if a strawberry upgrade stops calling it.
    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        # Errors the API raises on purpose are logged here at INFO, without a
        # traceback. Unexpected ones are logged at ERROR by anonymise_error.
        errors = [explain_operation_type(error) for error in errors]
        for error in errors:
            if not is_unexpected(error):
                code = (error.extensions or {}).get("code", "GRAPHQL_ERROR")
                logger.info(
                    "request error in %s: %s (%s, request %s)",
                    self._operation_name(), error.message, code, self._request_id(),
                )
        return super()._process_errors(errors)

    def _operation_name(self) -> str:
        return self.execution_context.operation_name or "anonymous operation"

    def _request_id(self) -> str | None:
        return getattr(getattr(self.execution_context, "context", None), "request_id", None)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        request_id = self._request_id()
        logger.error(
            "unexpected error in %s at %s (request %s)",
            self._operation_name(),
            ".".join(str(part) for part in error.path or []),
            request_id,
            exc_info=error.original_error,
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        return masked


# graphql-core's messages for its own parser limits (graphql-core 3.3).
TOO_MANY_TOKENS_PREFIX = "Syntax Error: Document contains more than"
NESTED_TOO_DEEPLY_PREFIX = "Syntax Error: Document is nested too deeply"

# graphql-core appends suggestions such as " Did you mean 'email'?" to validation
# and input coercion messages; names are GraphQL names, so they hold no '?'.
SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


def _settings(extension: SchemaExtension) -> Settings:
    services = getattr(extension.execution_context.context, "services", None)
    return services.settings if services is not None else Settings()


# One store for the whole process, because Strawberry creates the extension anew for each request.
_MEASURES = MeasureCache()


class RequestLimits(SchemaExtension):
    """Reject a request over a limit of the settings before it is validated or run.

    Tokens are counted by graphql-core's parser (`max_tokens`), which also
    stops at 200 nested selection sets. Depth, aliases and cost are measured
    by `DocumentMeter` before the standard validation rules run, so an
    oversized document never reaches them.

    Strawberry's QueryDepthLimiter and MaxAliasesLimiter (0.341) are not used:
    they take fixed limits when the schema is built, report no
    `extensions.code`, and walk a fragment again at every spread, which takes
    exponential time on a chain of fragments that each spread the next twice.
    QueryDepthLimiter also skips `__schema` and `__type` subtrees entirely.
    """

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = _settings(self).max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if not isinstance(error, GraphQLSyntaxError):
                continue
            if error.message.startswith(TOO_MANY_TOKENS_PREFIX):
                error.message = f"The query has more than {_settings(self).max_tokens} tokens; send a smaller query."
                error.extensions = {"code": "TOO_MANY_TOKENS"}
            elif error.message.startswith(NESTED_TOO_DEEPLY_PREFIX):
                error.message = "The query is nested too deeply to be parsed; send a shallower query."
                error.extensions = {"code": "QUERY_TOO_DEEP"}

    def on_validate(self) -> Iterator[None]:
        error = self._check()
        if error is not None:
            # Set before validation runs, so Strawberry skips the standard rules.
            self.execution_context.pre_execution_errors = [error]
        yield

    def _check(self) -> LimitExceeded | None:
        settings = _settings(self)
        context = self.execution_context

        depth = variables_depth(context.variables or {})
        if depth > settings.max_variables_depth:
            return LimitExceeded(
                "VARIABLES_TOO_DEEP",
                f"The variables nest {depth} levels deep; at most {settings.max_variables_depth} are allowed.",
            )

        assert context.graphql_document is not None
        measure = _MEASURES.measure(
            context.schema._schema, context.graphql_document, context.variables, context.operation_name
        )
        if measure.depth > settings.max_query_depth:
            return LimitExceeded(
                "QUERY_TOO_DEEP",
                f"The query nests fields {measure.depth} levels deep; at most {settings.max_query_depth} are allowed.",
            )
        if measure.aliases > settings.max_aliases:
            return LimitExceeded(
                "TOO_MANY_ALIASES",
                f"The query uses {measure.aliases} aliases, counting each fragment spread; "
                f"at most {settings.max_aliases} are allowed.",
            )
        if measure.cost > settings.max_query_cost:
            return LimitExceeded(
                "QUERY_TOO_COSTLY",
                f"The query may return up to {measure.cost} connection items; at most "
                f"{settings.max_query_cost} are allowed. Ask for smaller pages with `first`.",
            )
        return None


class IntrospectionDisabled(ValidationRule):
    """Reject `__schema` and `__type`; `__typename` stays allowed."""

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        if node.name.value in ("__schema", "__type"):
            self.report_error(
                GraphQLError(
                    "Introspection is disabled on this server; coordinators may sign in to use it.",
                    node,
                    extensions={"code": "INTROSPECTION_DISABLED"},
                )
            )


class HideSchemaInProduction(SchemaExtension):
    """Turn off introspection and "Did you mean" suggestions in production, except for coordinators.

    Both would otherwise let an anonymous caller map the whole schema.
    """

    def _hides_schema(self) -> bool:
        if not _settings(self).is_production:
            return False
        viewer = getattr(self.execution_context.context, "viewer", None)
        return not (viewer is not None and viewer.is_coordinator)

    def on_operation(self) -> Iterator[None]:
        hide = self._hides_schema()
        if hide:
            context = self.execution_context
            context.validation_rules = (*context.validation_rules, IntrospectionDisabled)
        yield
        if hide:
            self._strip_suggestions()

    def _strip_suggestions(self) -> None:
        context = self.execution_context
        errors = list(context.pre_execution_errors or ())
        result = context.result
        if result is not None and getattr(result, "errors", None):
            errors.extend(result.errors)
        for error in errors:
            error.message = SUGGESTION.sub("", error.message)


class CachedValidation(ValidationCache):
    """Strawberry's validation cache, skipped once a request limit has rejected the document.

    Without the check the cached result would replace the limit's error, and a
    document over a limit would be validated after all.
    """

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors:
            yield
            return
        yield from super().on_validate()


@lru_cache(maxsize=1)
def _cached_parse(maxsize: int) -> Callable[..., DocumentNode]:
    return lru_cache(maxsize=maxsize)(parse)


class CachedParser(SchemaExtension):
    """Reuse parsed documents, keyed by the query text and the parser options.

    Unlike Strawberry's ParserCache, a syntax error is stored as the request's
    error instead of escaping the hook, so `RequestLimits` can still give a
    too-large or too-deep document its code.
    """

    def __init__(self, maxsize: int) -> None:
        self._parse = _cached_parse(maxsize)

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.graphql_document = self._parse(context.query, **context.parse_options)
        except GraphQLError as error:
            context.pre_execution_errors = [error]
        yield
