"""The app's own code, beside the pages: charts, the Train form, formatting and the widgets pages share.

Pages call these and show what they return; the engine (`mnist_core`) never imports this package.
"""
