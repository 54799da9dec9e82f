"""Push notifications: devices, the APNs and FCM clients, delivery and quiet hours."""
