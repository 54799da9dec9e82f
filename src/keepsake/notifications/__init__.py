"""In-app notifications: who followed, asked, approved or clapped, and memories finished."""
