"""Communications: renders and sends messages through the vendor; receipts."""
