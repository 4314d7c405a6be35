// Imported first by build-contract.ts, for its side effect: builds the helpdesk event schemas (built on first use,
// shared/lazy-schema.ts) before any module that names a schema at import (the reply request) is loaded, so the
// registry, and with it the OpenAPI document's components, lists the named schemas in the contract's order: events,
// the reply request, then the API's own.
import { buildHelpdeskEventSchemas } from '../../shared/helpdesk/events';

buildHelpdeskEventSchemas();
