"""What vulture flags in layers/, local_stack/ and functions/ but is alive, each with the reason.

vulture reads this file as code (``make lint`` runs ``vulture``, configured in pyproject.toml): a name
mentioned here counts as used, everywhere. Nothing imports or runs it. Functions registered by a decorator
(``@route`` handlers, pydantic's ``@field_validator``/``@model_validator``) are left out by
``ignore_decorators`` in pyproject.toml instead of being listed one by one.

Before adding an entry, check that the code is really called from outside what vulture reads (a framework,
the Lambda runtime, AWS, a test harness); if it is not, delete it. Keep one reason per entry.
"""
# ruff: noqa: B018 - bare attribute accesses are the whitelist's format

_ = object()

# --- entry points called from outside Python's call graph -------------------------------------------------
_.lambda_handler  # functions/*/app.py: the Handler that template.yaml names; the Lambda runtime calls it
_.reset_clients  # hookline.aws: tests/integration/lambda_harness.py drops cached clients between moto runs

# --- the API's response shapes (api/views.py TypedDicts): keys of the JSON answer, read by clients -------
_.next_cursor
_.has_more
_.previous_key_expires_at
_.previous_secret_expires_at
_.last_attempt_at
_.last_status_code
_.error_message
_.response_excerpt
_.next_run_at

# --- pydantic ------------------------------------------------------------------------------------------
_.model_config  # api/models.py: pydantic reads a model's configuration from this class attribute

# --- the domain ------------------------------------------------------------------------------------------
_.opened_at  # core/models.py BreakerState: the stored item's field; tests/unit/fakes.py's store reads it
# to emulate storage.breaker_state's conditional close (a success older than the opening keeps it open)

# --- requests/urllib3 hooks overridden in delivery/guarded_http.py: called by those libraries -----------
_._new_conn  # urllib3 HTTPConnection: opens the socket (ours connects to the vetted address only)
_.ConnectionCls  # urllib3 HTTPConnectionPool: the connection class a pool makes
_.pool_classes_by_scheme  # urllib3 PoolManager: the pool class per scheme
_.proxy_manager_for  # requests HTTPAdapter: ours refuses proxies
_.proxy  # its parameter, named by requests
_.proxy_kwargs  # likewise
_.get_redirect_target  # requests Session: ours names no target, so requests never reads a 3xx's body
_.resp  # its parameter, named by requests
_.trust_env  # requests Session: off, so no proxy or netrc comes from the environment
_.max_redirects  # requests Session: 0, as above

# --- context managers: __exit__'s parameters are the protocol's ---------------------------------------
_.exc_type  # delivery/guarded_http.py, local_stack/process.py
_.tb

# --- http.server and socketserver hooks (local_stack/apigw.py, control.py, demo.py, background_server.py)
_.protocol_version  # BaseHTTPRequestHandler: HTTP/1.1 keeps connections alive
_.disable_nagle_algorithm  # StreamRequestHandler
_.server_version  # BaseHTTPRequestHandler: the Server header
_.sys_version  # likewise
_.log_message  # BaseHTTPRequestHandler: silenced (the stack logs on its own)
_.close_connection  # BaseHTTPRequestHandler: closes after this answer
_.explain  # BaseHTTPRequestHandler.send_error's parameter, named by http.server
_.do_GET  # BaseHTTPRequestHandler dispatches on the method's name
_.do_POST
_.do_PUT
_.do_PATCH
_.do_DELETE
_.do_HEAD
_.do_OPTIONS
_.request_queue_size  # socketserver.TCPServer: the listen() backlog
_.daemon_threads  # socketserver.ThreadingMixIn: handler threads do not hold the process open

# --- io.RawIOBase hooks (local_stack/http_framing.py): io.BufferedReader calls them ---------------------
_.readable
_.readinto

# --- the Lambda context object's attributes (local_stack/_bootstrap.py): handlers and powertools read them
_.function_version
_.memory_limit_in_mb
_.log_group_name
_.log_stream_name
_.client_context

# --- attributes of other libraries' objects, set for their code to read ------------------------------------
_.access_key_id  # local_stack/iam_enforcement.py: moto's IAM access key, given the stack's fixed admin id
_.secret_access_key  # likewise
_.INITIAL_NO_AUTH_ACTION_COUNT  # moto.settings: enforce IAM from the first request
_.request_count  # moto's ActionAuthenticatorMixin counter, reset with the setting above
_.mode  # local_stack/lambda_image.py: tarfile.TarInfo's permission bits in the image

# --- imports for their side effect -------------------------------------------------------------------------
_.samtranslator  # local_stack/stack.py: imported while moto starts, so the deployment does not wait for it
