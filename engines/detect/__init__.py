"""Object detection: detectors behind one interface, an IoU tracker and a frame-rate pacer.

An RGB frame goes in, detections come out; the offline detectors ship inside OpenCV. Nothing heavy is
imported here.
"""
