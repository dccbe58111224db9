"""From a computed payment list to money in the account: review and approval states, the bank file, the return.

`states.py` is the maker-checker state machine (草稿 → 已提交 → 已审核 → 已发放, or 已退回) as pure functions;
`bank.py` runs a run folder to the bank and back (accounts, batch, bank file, reconciliation).
"""
