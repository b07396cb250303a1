"""Drives Beacon through a Python client generated from its OpenAPI document
(openapi-python-client): products, a promotion, a cart, events, profiles and
an error, each answer parsed into the generated models. Prints what it saw
as one JSON object for the Rust test to check.

usage: use_client.py PACKAGE_PARENT BASE_URL ADMIN_KEY WRITE_KEY
"""
import base64
import json
import sys
import time

sys.path.insert(0, sys.argv[1])
base, admin, write = sys.argv[2], sys.argv[3], sys.argv[4]

from beacon_client import AuthenticatedClient, Client  # noqa: E402
from beacon_client.api.default import (  # noqa: E402
    get_api_v1_profiles,
    post_api_v1_carts_price,
    post_api_v1_products,
    post_api_v1_promotions,
    post_v1_batch,
)
from beacon_client.models import CartRequest, Spec  # noqa: E402
from beacon_client.models.post_api_v1_products_body import PostApiV1ProductsBody  # noqa: E402
from beacon_client.models.post_v1_batch_body import PostV1BatchBody  # noqa: E402

client = AuthenticatedClient(base_url=base, token=admin, raise_on_unexpected_status=True)
seen = {}

product = post_api_v1_products.sync_detailed(client=client, body=PostApiV1ProductsBody.from_dict(
    {"product_id": "TEA-9", "name": "碧螺春", "price": "120.00", "category": "茶叶/绿茶", "stock": 5}))
seen["product"] = [int(product.status_code), type(product.parsed).__name__, product.parsed.to_dict()]

spec = Spec.from_dict({"id": "gen-mj", "name": "满100减15", "status": "active",
                       "reward": {"type": "tiers", "tiers": [{"min": "100", "amount_off": "15"}]}})
promotion = post_api_v1_promotions.sync_detailed(client=client, body=spec)
seen["promotion"] = [int(promotion.status_code), promotion.parsed.to_dict()]

cart = CartRequest.from_dict({"lines": [{"product_id": "TEA-9", "quantity": 1}]})
priced = post_api_v1_carts_price.sync_detailed(client=client, body=cart)
seen["cart"] = [int(priced.status_code), priced.parsed.to_dict()]

bad = post_api_v1_promotions.sync_detailed(client=client, body=Spec.from_dict(
    {"id": "gen-bad", "name": "bad", "reward": {"type": "amount_off", "amount": "-5"}}))
seen["bad"] = [int(bad.status_code), bad.parsed.to_dict()]

basic = base64.b64encode(f"{write}:".encode()).decode()
tracker = Client(base_url=base, headers={"Authorization": f"Basic {basic}"}, raise_on_unexpected_status=True)
batch = PostV1BatchBody.from_dict({"batch": [
    {"type": "identify", "userId": "gen-1", "traits": {"city": "苏州"}},
    {"type": "track", "userId": "gen-1", "event": "Product Viewed", "properties": {"product_id": "TEA-9"}}]})
sent = post_v1_batch.sync_detailed(client=tracker, body=batch)
seen["batch"] = [int(sent.status_code), sent.parsed.to_dict()]

deadline = time.monotonic() + 30
while True:  # the processor makes the profile a moment after the batch is taken
    found = get_api_v1_profiles.sync_detailed(client=client, identity="user_id:gen-1")
    if found.parsed.items or time.monotonic() > deadline:
        break
    time.sleep(0.05)
seen["profiles"] = [int(found.status_code), found.parsed.to_dict()]

print(json.dumps(seen, ensure_ascii=False))
