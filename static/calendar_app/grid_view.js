// grid_view.js
