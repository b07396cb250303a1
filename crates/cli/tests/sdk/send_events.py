"""Sends one shopper's journey through a real Segment or RudderStack SDK.

Usage: send_events.py SDK(segment|rudderstack) HOST WRITE_KEY PREFIX GZIP(0|1)

The journey: an old account, anonymous browsing (with a retried messageId),
identify with email/phone, and an alias of the old account into the new one.
Exits non-zero if the SDK reported any delivery error.
"""
import sys

sdk, host, write_key, prefix, gzip = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1"
if sdk == "segment":
    from segment.analytics.client import Client
else:
    from rudderstack.analytics.client import Client

errors = []
client = Client(write_key=write_key, host=host, gzip=gzip, on_error=lambda e, batch: errors.append(repr(e)),
                max_retries=2, upload_size=3)
anon, user, old = f"{prefix}-anon", f"{prefix}-user", f"{prefix}-old"
device = {"device": {"id": f"{prefix}-device"}}
client.identify(user_id=old, traits={"plan": "basic"}, message_id=f"{prefix}-m0")
client.page(anonymous_id=anon, name="首页", properties={"path": "/"}, message_id=f"{prefix}-m1")
client.track(anonymous_id=anon, event="Product Viewed", properties={"sku": "SKU-1", "price": 99.5},
             context=device, message_id=f"{prefix}-m2")
client.track(anonymous_id=anon, event="Product Viewed", properties={"sku": "SKU-1", "price": 99.5},
             context=device, message_id=f"{prefix}-m2")  # a retry: same messageId
client.identify(user_id=user, anonymous_id=anon, message_id=f"{prefix}-m3",
                traits={"email": f"{prefix}@Example.com", "phone": "+86 138 0013 8000", "name": "韩梅梅"})
client.alias(previous_id=old, user_id=user, message_id=f"{prefix}-m4")
client.flush()
client.join()
if errors:
    print("delivery errors:", errors, file=sys.stderr)
    sys.exit(1)
