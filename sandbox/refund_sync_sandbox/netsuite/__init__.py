"""A NetSuite account simulator serving the refund-export RESTlet and the OAuth 2.0 token endpoint.

credentials = SandboxCredentials.generate("1234567_SB1")
account = NetSuiteAccount(credentials)
generate_refunds(account, 50)
with start_netsuite_server(account) as server:
    ...  # point the adapter at server.environment(); store credentials.secret_for(method)
"""

from refund_sync_sandbox.netsuite.account import (
    DEFAULT_DEPLOY_ID,
    DEFAULT_SAVED_SEARCH_ID,
    DEFAULT_SCRIPT_ID,
    AccountingPeriod,
    BillingRecord,
    BillingType,
    CallRecord,
    Faults,
    NetSuiteAccount,
    SalesOrder,
    SavedSearch,
    SyncFields,
)
from refund_sync_sandbox.netsuite.app import CONTROL_PREFIX, RESTLET_PATH, TOKEN_PATH, create_app
from refund_sync_sandbox.netsuite.credentials import M2MKeys, SandboxCredentials, TbaKeys
from refund_sync_sandbox.netsuite.generate import generate_refunds, product_line
from refund_sync_sandbox.netsuite.server import RunningServer, start_netsuite_server

__all__ = [
    "CONTROL_PREFIX",
    "DEFAULT_DEPLOY_ID",
    "DEFAULT_SAVED_SEARCH_ID",
    "DEFAULT_SCRIPT_ID",
    "RESTLET_PATH",
    "TOKEN_PATH",
    "AccountingPeriod",
    "BillingRecord",
    "BillingType",
    "CallRecord",
    "Faults",
    "M2MKeys",
    "NetSuiteAccount",
    "RunningServer",
    "SalesOrder",
    "SandboxCredentials",
    "SavedSearch",
    "SyncFields",
    "TbaKeys",
    "create_app",
    "generate_refunds",
    "product_line",
    "start_netsuite_server",
]
