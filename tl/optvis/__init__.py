"""Feature visualization: parameterizations, transforms, objectives and the render loop (lucent's layout)."""
